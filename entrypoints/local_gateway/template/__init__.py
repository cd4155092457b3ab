"""`serve --template`: a user's own app, described by its CloudFormation or SAM template.

reading     the file (YAML or JSON), SAM expanded by aws-sam-translator, each function's code
intrinsics  Ref, Fn::GetAtt, Fn::Sub, Fn::Join, Fn::Select resolved to local values
app         what serve reproduces: the WebSocket API, its routes, their functions, the
            authorizer, the tables; and a line for each resource it does not
sandbox     one function's process, as Lambda runs it: its folder, handler, environment
functions   the functions' processes, called from the gateway's worker threads
tables      the template's DynamoDB tables, made in the local DynamoDB
tls         the local CA and certificate behind https://{domainName}/{stage}
"""
