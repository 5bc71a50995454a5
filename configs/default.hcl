# The default topology: three regions on this machine, each with its own
# DynamoDB endpoint and its own data folder under ./data.
#
#   go run ./cmd/globaltables up
#
# Any DynamoDB client works against the endpoints with dummy credentials:
#   aws dynamodb list-tables --endpoint-url http://127.0.0.1:8000

data_dir     = "data"
log_level    = "info"
ttl_interval = "10s"

region "us-east-1" {
  listen = "127.0.0.1:8000"
}

region "eu-west-1" {
  listen = "127.0.0.1:8001"
}

region "ap-southeast-1" {
  listen = "127.0.0.1:8002"
}
