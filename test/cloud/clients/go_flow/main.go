// The run flow with the AWS SDK for Go v2 against gatepass, as a Go program in a run would do it:
// credentials from the SDK's default chain (AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE), the only
// change an endpoint resolver. Reads a JSON job on stdin, prints one JSON document of results, never
// credentials.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

type job struct {
	Endpoint      string `json:"endpoint"`
	RoleName      string `json:"roleName"`
	MemberRoleArn string `json:"memberRoleArn"`
	ApplyToken    string `json:"applyToken"`
	RoleArn       string `json:"roleArn"`
}

// errorCode is the AWS error code and HTTP status of a failed call, or nil when it succeeded.
func errorCode(err error) []interface{} {
	if err == nil {
		return nil
	}
	var api smithy.APIError
	var resp *awshttp.ResponseError
	if !errors.As(err, &api) || !errors.As(err, &resp) {
		return []interface{}{"unmodeled: " + err.Error(), 0}
	}
	return []interface{}{api.ErrorCode(), resp.HTTPStatusCode()}
}

func main() {
	var j job
	if err := json.NewDecoder(os.Stdin).Decode(&j); err != nil {
		fail(err)
	}
	ctx := context.Background()
	resolver := aws.EndpointResolverWithOptionsFunc(
		func(service, region string, _ ...interface{}) (aws.Endpoint, error) {
			return aws.Endpoint{URL: j.Endpoint, SigningRegion: region}, nil
		})
	cfg, err := config.LoadDefaultConfig(ctx,
		config.WithRegion("us-east-1"),
		config.WithEndpointResolverWithOptions(resolver),
		config.WithRetryer(func() aws.Retryer { return aws.NopRetryer{} }),
	)
	if err != nil {
		fail(err)
	}
	out := map[string]interface{}{}

	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		fail(err)
	}
	out["accessKeyPrefix"] = creds.AccessKeyID[:4]
	out["canExpire"] = creds.CanExpire
	out["sessionTokenSet"] = creds.SessionToken != ""

	stsClient := sts.NewFromConfig(cfg)
	me, err := stsClient.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		fail(err)
	}
	out["callerArn"] = aws.ToString(me.Arn)
	out["account"] = aws.ToString(me.Account)

	// Chaining into a member account with the SDK's own AssumeRole provider.
	chainedCfg := cfg.Copy()
	chainedCfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(stsClient, j.MemberRoleArn,
		func(o *stscreds.AssumeRoleOptions) { o.RoleSessionName = "go-chain" }))
	chained, err := sts.NewFromConfig(chainedCfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		fail(err)
	}
	out["chainedArn"] = aws.ToString(chained.Arn)

	iamClient := iam.NewFromConfig(cfg)
	role, err := iamClient.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(j.RoleName)})
	if err != nil {
		fail(err)
	}
	out["iamRoleName"] = aws.ToString(role.Role.RoleName)

	anon := sts.NewFromConfig(cfg, func(o *sts.Options) { o.Credentials = aws.AnonymousCredentials{} })
	_, wrongPhase := anon.AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{
		RoleArn: aws.String(j.RoleArn), RoleSessionName: aws.String("go"), WebIdentityToken: aws.String(j.ApplyToken),
	})
	_, badToken := anon.AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{
		RoleArn: aws.String(j.RoleArn), RoleSessionName: aws.String("go"), WebIdentityToken: aws.String("abcd.efgh.ijkl"),
	})
	_, badSessionName := anon.AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{
		RoleArn: aws.String(j.RoleArn), RoleSessionName: aws.String("has space"), WebIdentityToken: aws.String(j.ApplyToken),
	})
	_, chainTooLong := stsClient.AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn: aws.String(j.MemberRoleArn), RoleSessionName: aws.String("long"), DurationSeconds: aws.Int32(7200),
	})
	_, writeDenied := iamClient.CreateRole(ctx, &iam.CreateRoleInput{
		RoleName:                 aws.String("nope"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[]}`),
	})
	_, noSuchRole := iamClient.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("does-not-exist")})
	out["errors"] = map[string]interface{}{
		"wrongPhase":     errorCode(wrongPhase),
		"badToken":       errorCode(badToken),
		"badSessionName": errorCode(badSessionName),
		"chainTooLong":   errorCode(chainTooLong),
		"writeDenied":    errorCode(writeDenied),
		"noSuchRole":     errorCode(noSuchRole),
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		fail(err)
	}
}

// fail prints the error without anything that could hold a credential (the SDK's messages name
// operations and codes, not secrets) and exits non-zero.
func fail(err error) {
	fmt.Fprintln(os.Stderr, strings.TrimSpace(err.Error()))
	os.Exit(1)
}
