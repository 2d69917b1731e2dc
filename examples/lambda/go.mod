module github.com/rtdskit/rtds/examples/lambda

go 1.26.0

require (
	github.com/aws/aws-lambda-go v1.55.1
	github.com/rtdskit/rtds v0.0.0
)

require (
	go.yaml.in/yaml/v3 v3.0.6 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
)

replace github.com/rtdskit/rtds => ../..
