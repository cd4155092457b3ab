"""AWS services serve stands in for: DynamoDB (an endpoint, or moto in its own process)."""
