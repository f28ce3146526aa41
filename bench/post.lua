-- wrk script: POSTs the file named by BODY_FILE as application/json (bench/run and bench/README's commands).
local file = io.open(os.getenv("BODY_FILE"), "rb")
wrk.method = "POST"
wrk.body = file:read("*a")
file:close()
wrk.headers["Content-Type"] = "application/json"
