SUPPORTED = "echo.v1"


def handler(event, context):
    route = event["requestContext"]["routeKey"]
    if route == "$connect":
        offered = (event.get("headers") or {}).get("Sec-WebSocket-Protocol", "")
        if SUPPORTED in [p.strip() for p in offered.split(",")]:
            return {"statusCode": 200, "headers": {"Sec-WebSocket-Protocol": SUPPORTED}}
        return {"statusCode": 200}
    return {"statusCode": 200, "body": f"echo: {event.get('body')}"}
