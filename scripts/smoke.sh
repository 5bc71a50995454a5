#!/usr/bin/env bash
# Smoke test: starts one region from the given binary and drives it with the
# AWS CLI, checking each answer. Usage: scripts/smoke.sh [path/to/globaltables]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-bin/globaltables}

name=smoke
export AWS_ACCESS_KEY_ID=dummy AWS_SECRET_ACCESS_KEY=dummy
. scripts/smoke-lib.sh

start_region --name us-east-1 --listen 127.0.0.1:0 --data "$work/data"

ddb() { aws dynamodb --endpoint-url "$endpoint" --output text "$@"; }

ddb create-table --table-name Music \
  --attribute-definitions AttributeName=Artist,AttributeType=S AttributeName=SongTitle,AttributeType=S \
  --key-schema AttributeName=Artist,KeyType=HASH AttributeName=SongTitle,KeyType=RANGE \
  --billing-mode PAY_PER_REQUEST >/dev/null
ddb wait table-exists --table-name Music
check "describe status" ACTIVE "$(ddb describe-table --table-name Music --query Table.TableStatus)"
check "list tables" Music "$(ddb list-tables --query 'TableNames[0]')"

ddb put-item --table-name Music --item '{"Artist":{"S":"No One You Know"},"SongTitle":{"S":"Call Me Today"},"Year":{"N":"2015"},"Plays":{"N":"0"}}'
ddb put-item --table-name Music --item '{"Artist":{"S":"No One You Know"},"SongTitle":{"S":"Howdy"},"Year":{"N":"2018"}}'
check "get item" 2015 "$(ddb get-item --table-name Music --key '{"Artist":{"S":"No One You Know"},"SongTitle":{"S":"Call Me Today"}}' --query Item.Year.N)"

check "update item" 5 "$(ddb update-item --table-name Music \
  --key '{"Artist":{"S":"No One You Know"},"SongTitle":{"S":"Call Me Today"}}' \
  --update-expression 'SET Plays = Plays + :n' --expression-attribute-values '{":n":{"N":"5"}}' \
  --return-values UPDATED_NEW --query Attributes.Plays.N)"

check "query count" 2 "$(ddb query --table-name Music --key-condition-expression 'Artist = :a' \
  --expression-attribute-values '{":a":{"S":"No One You Know"}}' --select COUNT --query Count)"
check "query begins_with" Howdy "$(ddb query --table-name Music \
  --key-condition-expression 'Artist = :a AND begins_with(SongTitle, :p)' \
  --expression-attribute-values '{":a":{"S":"No One You Know"},":p":{"S":"How"}}' --query 'Items[0].SongTitle.S')"
check "scan filter" 1 "$(ddb scan --table-name Music --filter-expression '#y > :y' \
  --expression-attribute-names '{"#y":"Year"}' --expression-attribute-values '{":y":{"N":"2016"}}' --query Count)"

# A failed condition is ConditionalCheckFailedException, and the CLI exits 254 or 255.
set +e
out=$(ddb put-item --table-name Music --item '{"Artist":{"S":"No One You Know"},"SongTitle":{"S":"Howdy"}}' \
  --condition-expression 'attribute_not_exists(Artist)' 2>&1)
status=$?
set -e
check "conditional put fails" yes "$([ $status -ne 0 ] && echo yes || echo no)"
check "conditional error type" yes "$(echo "$out" | grep -q ConditionalCheckFailedException && echo yes || echo no)"

ddb batch-write-item --request-items '{"Music":[
  {"PutRequest":{"Item":{"Artist":{"S":"Acme Band"},"SongTitle":{"S":"Happy Day"}}}},
  {"PutRequest":{"Item":{"Artist":{"S":"Acme Band"},"SongTitle":{"S":"PartiQL Rocks"}}}},
  {"DeleteRequest":{"Key":{"Artist":{"S":"No One You Know"},"SongTitle":{"S":"Howdy"}}}}]}' >/dev/null
check "batch get" 2 "$(ddb batch-get-item --request-items '{"Music":{"Keys":[
  {"Artist":{"S":"Acme Band"},"SongTitle":{"S":"Happy Day"}},
  {"Artist":{"S":"Acme Band"},"SongTitle":{"S":"PartiQL Rocks"}},
  {"Artist":{"S":"No One You Know"},"SongTitle":{"S":"Howdy"}}]}}' --query 'length(Responses.Music)')"

ddb transact-write-items --transact-items '[
  {"Put":{"TableName":"Music","Item":{"Artist":{"S":"Acme Band"},"SongTitle":{"S":"Third"}}}},
  {"Update":{"TableName":"Music","Key":{"Artist":{"S":"Acme Band"},"SongTitle":{"S":"Happy Day"}},
    "UpdateExpression":"SET Rating = :r","ExpressionAttributeValues":{":r":{"N":"5"}}}}]'
check "transaction applied" 5 "$(ddb get-item --table-name Music --key '{"Artist":{"S":"Acme Band"},"SongTitle":{"S":"Happy Day"}}' --query Item.Rating.N)"

ddb update-time-to-live --table-name Music --time-to-live-specification Enabled=true,AttributeName=ExpiresAt >/dev/null
check "ttl enabled" ENABLED "$(ddb describe-time-to-live --table-name Music --query TimeToLiveDescription.TimeToLiveStatus)"

# DynamoDB Streams on the same endpoint: the AWS CLI, then a Python client.
ddbs() { aws dynamodbstreams --endpoint-url "$endpoint" --region us-east-1 --output text "$@"; }
ddb create-table --table-name Events \
  --attribute-definitions AttributeName=id,AttributeType=S --key-schema AttributeName=id,KeyType=HASH \
  --billing-mode PAY_PER_REQUEST --stream-specification StreamEnabled=true,StreamViewType=NEW_AND_OLD_IMAGES >/dev/null
ddb put-item --table-name Events --item '{"id":{"S":"e1"},"v":{"N":"1"}}'
ddb update-item --table-name Events --key '{"id":{"S":"e1"}}' --update-expression 'SET v = :v' --expression-attribute-values '{":v":{"N":"2"}}'
ddb delete-item --table-name Events --key '{"id":{"S":"e1"}}'
stream_arn=$(ddbs list-streams --table-name Events --query 'Streams[0].StreamArn')
check "stream arn" "$(ddb describe-table --table-name Events --query Table.LatestStreamArn)" "$stream_arn"
check "stream status" ENABLED "$(ddbs describe-stream --stream-arn "$stream_arn" --query StreamDescription.StreamStatus)"
shard=$(ddbs describe-stream --stream-arn "$stream_arn" --query 'StreamDescription.Shards[0].ShardId')
iter=$(ddbs get-shard-iterator --stream-arn "$stream_arn" --shard-id "$shard" --shard-iterator-type TRIM_HORIZON --query ShardIterator)
check "stream events" "INSERT MODIFY REMOVE" "$(ddbs get-records --shard-iterator "$iter" --query 'Records[].eventName' | tr '\t' ' ')"
check "stream old image" 1 "$(ddbs get-records --shard-iterator "$iter" --query 'Records[1].dynamodb.OldImage.v.N')"
check "python stream reader" "INSERT MODIFY REMOVE" "$(python3 scripts/streams-reader.py --endpoint "$endpoint" --table Events \
  | python3 -c 'import json,sys; print(" ".join(json.loads(l)["event"] for l in sys.stdin))')"

ddb delete-table --table-name Music >/dev/null
set +e
ddb describe-table --table-name Music >/dev/null 2>"$work/err"
set -e
check "deleted table is gone" yes "$(grep -q ResourceNotFoundException "$work/err" && echo yes || echo no)"

finish
