# A region is cut off from the others while both sides keep writing; the
# partition heals and the regions converge, every overwritten write a
# recorded conflict.
name        = "partition"
description = "isolate eu-west-1 while every region writes, then heal"

load {
  keys       = 50
  rate       = 40
  read_ratio = 0.2
}

step "start_load" {}
step "wait" { for = "3s" }
step "phase" { name = "partitioned" }
step "isolate" { region = "eu-west-1" }
step "wait" { for = "6s" }
step "phase" { name = "healed" }
step "heal" {}
step "wait" { for = "3s" }
step "stop_load" {}
step "assert" { converged_within = "60s" }
