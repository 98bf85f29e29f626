print("aop-perf")
