import os


def handler(event, context):
    token = event["queryStringParameters"].get("token")
    if token != os.environ["ALLOWED_TOKEN"]:
        raise Exception("Unauthorized")
    return {
        "principalId": "alice",
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": event["methodArn"]}
            ],
        },
        "context": {"user": "alice"},
    }
