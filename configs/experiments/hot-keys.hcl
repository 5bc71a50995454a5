# Hot keys: every region writes a small, Zipf-skewed key space. Run it
# against a running topology (go run ./cmd/globaltables up):
#
#   go run ./cmd/globaltables experiment conflict --file configs/experiments/hot-keys.hcl \
#       --out hot-keys.json --html hot-keys.html
#
# The same seed gives the same workload; flags override these values.
table      = "experiment"
keys       = 50
zipf       = 1.3
rate       = 50
read_ratio = 0.3
item_size  = 200
duration   = "20s"
seed       = 42
