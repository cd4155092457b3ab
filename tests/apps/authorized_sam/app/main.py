import json


def handler(event, context):
    authorizer = event["requestContext"].get("authorizer") or {}
    if event["requestContext"]["routeKey"] == "$connect":
        return {"statusCode": 200 if authorizer.get("user") else 403}
    return {"statusCode": 200, "body": json.dumps({"user": authorizer.get("user")})}
