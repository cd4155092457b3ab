import json
import os

import boto3

sqs = boto3.client("sqs")


def handler(event, context):
    request = event["requestContext"]
    work = {
        "endpoint": f"https://{request['domainName']}/{request['stage']}",
        "connectionId": request["connectionId"],
        "data": json.loads(event["body"])["data"],
    }
    sqs.send_message(QueueUrl=os.environ["QUEUE_URL"], MessageBody=json.dumps(work))
    return {"statusCode": 200}
