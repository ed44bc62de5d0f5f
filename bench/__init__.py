"""LeadSonar benchmarks: each prints its figures and saves them as JSON under bench/results/."""
