# Run in a project's sandbox by bench/kv.sh: set+get round trips on
# REPLIT_DB_URL from Python's http.client over one kept-alive connection,
# the protocol's cost without Node's fetch.
import http.client, os, time, urllib.parse

url = urllib.parse.urlsplit(os.environ["REPLIT_DB_URL"])
conn = http.client.HTTPConnection(url.hostname, url.port)
form = {"Content-Type": "application/x-www-form-urlencoded"}
times = []
for i in range(2000):
    key = f"key{i % 100}"
    t = time.perf_counter()
    conn.request("POST", url.path, body=f"{key}=%7B%22i%22%3A{i}%7D", headers=form)
    conn.getresponse().read()
    conn.request("GET", f"{url.path}/{key}")
    conn.getresponse().read()
    times.append((time.perf_counter() - t) * 1000)
times.sort()
at = lambda q: f"{times[int(q * (len(times) - 1))]:.3f}"
print(f"set+get round trip, one client (Python http.client): p50 {at(0.5)} ms, p99 {at(0.99)} ms")
