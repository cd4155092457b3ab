import json

import boto3


def handler(event, context):
    failed = []
    for record in event["Records"]:
        work = json.loads(record["body"])
        if work["data"] == "poison":
            print(f"cannot work on poison: {record['messageId']}")
            failed.append({"itemIdentifier": record["messageId"]})
            continue
        api = boto3.client("apigatewaymanagementapi", endpoint_url=work["endpoint"])
        answer = f"processed: {work['data']}"
        api.post_to_connection(ConnectionId=work["connectionId"], Data=answer.encode())
    return {"batchItemFailures": failed}
