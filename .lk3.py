import threading, time, queue
import threadprof
from threadprof.contention import analyse
lock = threading.Lock()
q = queue.Queue()
ev = threading.Event()
def worker():
    for _ in range(3):
        with lock:
            time.sleep(0.01)
def consumer():
    while (x := q.get()) is not None:
        pass
def producer():
    for i in range(3):
        time.sleep(0.01)
        q.put(i)
    q.put(None)
def waiter():
    ev.wait()
with threadprof.profile() as p:
    ts = [threading.Thread(target=worker) for _ in range(2)] + [threading.Thread(target=consumer), threading.Thread(target=producer), threading.Thread(target=waiter)]
    for t in ts: t.start()
    time.sleep(0.05); ev.set()
    for t in ts: t.join()
s = p.snapshot()
c = analyse(s)
for l in c.locks:
    th, node = l.site
    f = s.functions[s.threads[th].nodes[node].func] if node else None
    print(hex(l.address), l.kind, f and f.qualname, "waits", l.waits, "acq", l.acquired, "wait", l.wait_time/1e6, "max", l.max_wait/1e6, "holds", l.holds, l.hold_time/1e6, {s.threads[k].name: v for k, v in l.by_waiter.items()})
    for b in l.blockers[:4]:
        print("    ", s.threads[b.waiter].name, "<-", s.threads[b.holder].name, b.how, b.weight/1e6)
