"""The $connect REQUEST authorizer: its event, and its IAM policy judged as API Gateway does."""
