#!/usr/bin/env python3
"""Reads a table's DynamoDB stream from a globaltables region, the way any
Streams client does: ListStreams, DescribeStream, then GetShardIterator and
GetRecords shard by shard, following shard lineage (parents before
children). Prints one JSON line per record: event, keys, images.

Uses botocore (which boto3 and the AWS CLI are built on) and nothing else,
so it runs wherever the AWS CLI runs.

    scripts/streams-reader.py --endpoint http://127.0.0.1:8000 --table Music [--follow SECONDS]
"""
import argparse
import json
import sys
import time

import botocore.session


def client(endpoint, region):
    session = botocore.session.get_session()
    return session.create_client(
        "dynamodbstreams",
        region_name=region,
        endpoint_url=endpoint,
        aws_access_key_id="dummy",
        aws_secret_access_key="dummy",
    )


def shards_of(streams, arn):
    """Every shard of the stream, parents before children."""
    shards, start = [], None
    while True:
        kw = {"StreamArn": arn}
        if start:
            kw["ExclusiveStartShardId"] = start
        desc = streams.describe_stream(**kw)["StreamDescription"]
        shards += desc["Shards"]
        start = desc.get("LastEvaluatedShardId")
        if not start:
            return desc, shards


def read_shard(streams, arn, shard, until):
    """Yields the shard's records; returns when a closed shard is exhausted,
    or an open one has nothing new after `until`."""
    it = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    while it:
        page = streams.get_records(ShardIterator=it, Limit=1000)
        yield from page["Records"]
        it = page.get("NextShardIterator")
        if not page["Records"]:
            if time.time() >= until:
                return
            time.sleep(0.2)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--table", required=True)
    ap.add_argument("--region-name", default="us-east-1")
    ap.add_argument("--follow", type=float, default=0, help="keep polling the open shard this many seconds")
    args = ap.parse_args()

    streams = client(args.endpoint, args.region_name)
    listed = streams.list_streams(TableName=args.table)["Streams"]
    if not listed:
        sys.exit(f"table {args.table} has no stream")
    arn = listed[-1]["StreamArn"]  # the newest
    desc, shards = shards_of(streams, arn)
    until = time.time() + args.follow
    for shard in shards:
        for rec in read_shard(streams, arn, shard, until):
            d = rec["dynamodb"]
            print(json.dumps({
                "event": rec["eventName"],
                "region": rec["awsRegion"],
                "seq": d["SequenceNumber"],
                "keys": d["Keys"],
                "new": d.get("NewImage"),
                "old": d.get("OldImage"),
            }, sort_keys=True), flush=True)


if __name__ == "__main__":
    main()
