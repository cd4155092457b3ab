import json

import boto3


def handler(event, context):
    for record in event["Records"]:
        work = json.loads(record["body"])
        if work["data"] == "poison":
            raise ValueError("cannot work on poison")
        api = boto3.client("apigatewaymanagementapi", endpoint_url=work["endpoint"])
        answer = f"processed: {work['data']}"
        api.post_to_connection(ConnectionId=work["connectionId"], Data=answer.encode())
