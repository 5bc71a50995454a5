# eu-west-1's clock falls behind step by step: watch how many conflicts the
# skewed timestamps, not the real order of the writes, decide.
name        = "clock-skew"
description = "eu-west-1's clock behind by 0, 50 ms, 500 ms, 5 s"

load {
  keys       = 30
  rate       = 40
  read_ratio = 0.2
}

step "start_load" {}
step "phase" { name = "0ms" }
step "wait" { for = "4s" }
step "phase" { name = "-50ms" }
step "clock" {
  region = "eu-west-1"
  offset = "-50ms"
}
step "wait" { for = "4s" }
step "phase" { name = "-500ms" }
step "clock" {
  region = "eu-west-1"
  offset = "-500ms"
}
step "wait" { for = "4s" }
step "phase" { name = "-5s" }
step "clock" {
  region = "eu-west-1"
  offset = "-5s"
}
step "wait" { for = "4s" }
step "stop_load" {}
step "assert" { converged_within = "60s" }
