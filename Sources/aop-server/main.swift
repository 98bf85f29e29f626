print("aop-server: not yet assembled")
