"""The backlog benchmark against RabbitMQ 3.10 (Debian rabbitmq-server) for comparison: starts a private
node on free loopback ports, publishes N persistent 1 KiB messages with the same client as run.sh, prints
the beam process RSS, then drains the queue with the same consumer (timed).  Usage: python3 Benchmarks/backlog/rabbitmq.py 1000000"""
import sys, time, subprocess, os
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "Tests", "Integration"))
from servers import make_server
N = int(sys.argv[1])
srv = make_server("rabbitmq")
srv.start()
try:
    pid = int((srv.data_dir / "pid").read_text().strip())
    def rss():
        for l in open(f"/proc/{pid}/status"):
            if l.startswith(("VmRSS", "VmHWM")): print(l.strip(), end="  ")
        print(flush=True)
    print("idle:", end=" "); rss()
    t = time.time()
    subprocess.run([sys.executable, os.path.join(ROOT, "Benchmarks", "backlog", "backlog.py"), "publish", str(srv.port), "backlog.q", str(N), "4"], check=True)
    print(f"published {N} in {time.time()-t:.1f}s")
    time.sleep(5)
    print("after publish:", end=" "); rss()
    out = subprocess.run([sys.executable, os.path.join(ROOT, "Benchmarks", "backlog", "backlog.py"), "count", str(srv.port), "backlog.q"], capture_output=True, text=True)
    print("count", out.stdout.strip())
    # Drain with the same consumer as run.sh (prefetch 2000, multiple acks every 500), timed by backlog.py.
    subprocess.run([sys.executable, os.path.join(ROOT, "Benchmarks", "backlog", "backlog.py"), "drain", str(srv.port), "backlog.q", str(N)], check=True)
    print("after drain:", end=" "); rss()
finally:
    srv.stop(); srv.cleanup()
