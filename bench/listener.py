# The webhook listener from Sail's completion-webhooks page (step 1 of the
# "Full example"), the baseline the benchmark compares sail's receiver with.
# The handler is copied unchanged; only the port comes from argv, and, when a
# second argument is given, the bound port is written to that file so the
# benchmark can use port 0 and wait for readiness.
#
#   python3 bench/listener.py [PORT] [PORTFILE] >/dev/null 2>&1
import sys
from http.server import HTTPServer, BaseHTTPRequestHandler; import json
class H(BaseHTTPRequestHandler):
 def do_POST(self):
  print(json.dumps(json.loads(self.rfile.read(int(self.headers['Content-Length']))), indent=2))
  self.send_response(200); self.end_headers()
port = int(sys.argv[1]) if len(sys.argv) > 1 else 8765
server = HTTPServer(('127.0.0.1', port), H)
if len(sys.argv) > 2:
    with open(sys.argv[2] + '.tmp', 'w') as f:
        f.write(str(server.server_port))
    import os; os.replace(sys.argv[2] + '.tmp', sys.argv[2])
server.serve_forever()
