// Command hubtriage-lambda is hubtriage's AWS Lambda function (runtime
// provided.al2023, arm64). Build it as the deployment package's bootstrap:
//
//	GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -tags lambda.norpc -o bootstrap ./cmd/hubtriage-lambda
//
// or with `make -C deploy`, which also zips it with the config. Everything
// it does is in package hubtriage/lambda; see deploy/README.md for the
// environment it reads.
package main

import (
	"context"
	"log/slog"
	"os"
	"strings"

	awslambda "github.com/aws/aws-lambda-go/lambda"

	"hubtriage/lambda"
	"hubtriage/logging"
)

func main() {
	log, err := logging.New(os.Stdout, logFormat(os.Getenv("AWS_LAMBDA_LOG_FORMAT")), logLevel(os.Getenv("AWS_LAMBDA_LOG_LEVEL")).String())
	if err != nil {
		panic(err) // both come from the mappings below
	}
	h, err := lambda.Setup(context.Background(), lambda.SetupOptions{Logger: log})
	if err != nil {
		// An init error: Lambda fails the invocation, retries it and
		// finally hands it to the on-failure destination.
		log.Error("hubtriage setup failed", "err", err)
		os.Exit(1)
	}
	awslambda.Start(h.Invoke)
}

// logFormat maps the format Lambda's logging configuration sets
// (LogFormat: JSON or Text) to the handler's; JSON when unset, as CloudWatch
// Logs Insights reads it.
func logFormat(s string) string {
	if strings.EqualFold(s, "Text") {
		return logging.FormatText
	}
	return logging.FormatJSON
}

// logLevel maps the level Lambda's logging configuration sets
// (ApplicationLogLevel) to slog's; INFO when unset.
func logLevel(s string) slog.Level {
	switch strings.ToUpper(s) {
	case "TRACE", "DEBUG":
		return slog.LevelDebug
	case "WARN":
		return slog.LevelWarn
	case "ERROR", "FATAL":
		return slog.LevelError
	}
	return slog.LevelInfo
}
