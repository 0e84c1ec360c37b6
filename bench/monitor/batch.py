# Writes a batch of n monitoring events as the SDK sends them: page views,
# Web Vitals, errors (a few fingerprints), failed requests, custom events.
import json, sys, time

n = int(sys.argv[1])
now = int(time.time() * 1000)
kinds = [
    lambda i: {"type": "pageview", "url": f"https://app.example/items/{i}?q=secret", "referrer": "https://search.example/"},
    lambda i: {"type": "vital", "url": "https://app.example/", "name": ["LCP", "INP", "CLS", "FCP", "TTFB"][i % 5],
               "value": [1800 + i, 120 + i % 300, 0.05, 900 + i, 300 + i][i % 5], "rating": "good"},
    lambda i: {"type": "error", "url": "https://app.example/cart", "name": "TypeError",
               "message": f"Cannot read properties of undefined (reading 'id{i % 3}')", "source": "error",
               "stack": f"TypeError: x\n    at render (https://app.example/assets/app.js:1:{i})\n    at main (https://app.example/assets/app.js:2:9)"},
    lambda i: {"type": "request", "url": "https://app.example/cart", "method": "GET", "target": "https://api.example/cart",
               "status": 503, "durationMs": 120.5},
    lambda i: {"type": "event", "url": "https://app.example/", "name": "signup_click", "props": {"plan": "pro", "step": i % 4}},
]
events = []
for i in range(n):
    e = kinds[i % len(kinds)](i)
    e.update({"t": now - (n - i), "session": f"bench-session-{i % 20:04d}"})
    events.append(e)
json.dump(events, sys.stdout)
