// Who am I, with the AWS SDK for Go v2 inside `gatepass run`: the default configuration from the SDK's
// default chain, and the `member` alias from its shared config file (as tfc_aws_dynamic_credentials
// hands it to a Terraform provider), the default one again from the container endpoint alone, then
// an IAM write the plan role may not make. The only setting
// is the endpoint resolver a program of this SDK's age uses for its own calls. Prints
// {"default": ARN, "member": ARN, "container": ARN, "denied": code}, never a credential.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

func load(ctx context.Context, extra ...func(*config.LoadOptions) error) aws.Config {
	resolver := aws.EndpointResolverWithOptionsFunc(
		func(service, region string, _ ...interface{}) (aws.Endpoint, error) {
			return aws.Endpoint{URL: os.Getenv("AWS_ENDPOINT_URL_STS"), SigningRegion: region}, nil
		})
	opts := []func(*config.LoadOptions) error{config.WithRetryer(func() aws.Retryer { return aws.NopRetryer{} })}
	// The control run: what the SDK does on its own with the environment's endpoint settings.
	if os.Getenv("WHOAMI_NO_RESOLVER") == "" {
		opts = append(opts, config.WithEndpointResolverWithOptions(resolver))
	}
	opts = append(opts, extra...)
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		fail(err)
	}
	return cfg
}

func whoami(ctx context.Context, extra ...func(*config.LoadOptions) error) string {
	out, err := sts.NewFromConfig(load(ctx, extra...)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		fail(err)
	}
	return aws.ToString(out.Arn)
}

// A role that does not exist: the call changes nothing even where it is allowed.
const probeRole = "gatepass-client-probe"

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}

func main() {
	ctx := context.Background()
	if os.Getenv("WHOAMI_NO_RESOLVER") != "" {
		fmt.Println(whoami(ctx))
		return
	}
	var dyn struct {
		Aliases map[string]struct {
			SharedConfigFile string `json:"shared_config_file"`
		} `json:"aliases"`
	}
	if err := json.Unmarshal([]byte(os.Getenv("TF_VAR_tfc_aws_dynamic_credentials")), &dyn); err != nil {
		fail(err)
	}
	result := map[string]string{
		"default": whoami(ctx),
		"member":  whoami(ctx, config.WithSharedConfigFiles([]string{dyn.Aliases["member"].SharedConfigFile})),
		// No config file at all: the default configuration from the container endpoint alone.
		"container": whoami(ctx, config.WithSharedConfigFiles([]string{os.DevNull})),
		"denied":    "none",
	}
	_, err := iam.NewFromConfig(load(ctx)).DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String(probeRole)})
	var api smithy.APIError
	if errors.As(err, &api) {
		result["denied"] = api.ErrorCode()
	}
	if err := json.NewEncoder(os.Stdout).Encode(result); err != nil {
		fail(err)
	}
}
