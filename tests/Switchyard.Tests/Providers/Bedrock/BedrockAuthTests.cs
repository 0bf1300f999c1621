using System.Net;
using System.Text;
using Switchyard.Tests.Infrastructure;
using Xunit;

namespace Switchyard.Tests.Providers.Bedrock;

/// <summary>SigV4 with static, session and STS-issued credentials, web identity, and Bedrock API keys, against the simulator's own verifier.</summary>
public sealed class BedrockAuthTests
{
    private static object Body => new { model = BedrockHarness.Model, messages = new[] { new { role = "user", content = "hi" } } };

    [Fact]
    public async Task Static_keys_with_a_session_token_sign_the_token_header()
    {
        await using var h = await BedrockHarness.StartAsync();
        h.Sim.AddKey("ASIASESSIONKEY", "session/secret", "session-token-123");
        var response = await h.ChatAsync(Body,
            ("x-portkey-provider", "bedrock"), ("x-portkey-aws-access-key-id", "ASIASESSIONKEY"), ("x-portkey-aws-secret-access-key", "session/secret"),
            ("x-portkey-aws-session-token", "session-token-123"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var seen = Assert.Single(h.Sim.Requests);
        Assert.Equal("session-token-123", seen.Headers["x-amz-security-token"]);
        Assert.Contains("Credential=ASIASESSIONKEY/", seen.Headers["Authorization"]);
        Assert.Contains("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token,", seen.Headers["Authorization"]);
        // No aws_region: the default region is in the URL and the credential scope.
        Assert.Equal(BedrockHarness.ConversePath(region: "us-east-1"), seen.Path);
        Assert.Contains("/us-east-1/bedrock/aws4_request", seen.Headers["Authorization"]);
    }

    [Fact]
    public async Task A_wrong_secret_is_refused_by_the_signature_check_with_awss_error()
    {
        await using var h = await BedrockHarness.StartAsync();
        var response = await h.ChatAsync(Body,
            ("x-portkey-provider", "bedrock"), ("x-portkey-aws-access-key-id", BedrockHarness.KeyId), ("x-portkey-aws-secret-access-key", "not-the-secret"));
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var error = (await response.JsonAsync()).GetProperty("error");
        Assert.Equal("InvalidSignatureException", error.GetProperty("code").GetString());
        Assert.Contains("signature we calculated does not match", error.GetProperty("message").GetString());

        var unknown = await h.ChatAsync(Body,
            ("x-portkey-provider", "bedrock"), ("x-portkey-aws-access-key-id", "AKIDUNKNOWN"), ("x-portkey-aws-secret-access-key", "x"));
        Assert.Equal(HttpStatusCode.Forbidden, unknown.StatusCode);
        Assert.Equal("UnrecognizedClientException", (await unknown.JsonAsync()).GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task Assumed_role_calls_sts_once_and_signs_with_the_temporary_credentials()
    {
        await using var h = await BedrockHarness.StartAsync(sim => new Dictionary<string, string> { ["AWS_ENDPOINT_URL_STS"] = sim.StsUrl });
        var config = $$"""{"provider":"bedrock","aws_auth_type":"assumedRole","aws_role_arn":"arn:aws:iam::123456789012:role/bedrock-caller","aws_external_id":"ext-42","aws_access_key_id":"{{BedrockHarness.KeyId}}","aws_secret_access_key":"{{BedrockHarness.Secret}}","aws_region":"eu-central-1"}""";
        for (var i = 0; i < 2; i++)
        {
            var response = await h.ChatAsync(Body, Requests.Config(config));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        Assert.Equal(1, h.Sim.AssumeRoleCount);
        Assert.Equal("ext-42", h.Sim.ExternalIdsSeen["arn:aws:iam::123456789012:role/bedrock-caller"]);
        var sts = Assert.Single(h.Sim.StsRequests);
        Assert.Contains($"Credential={BedrockHarness.KeyId}/", sts.Headers["Authorization"]);
        Assert.Contains("/eu-central-1/sts/aws4_request", sts.Headers["Authorization"]);
        Assert.Contains("Action=AssumeRole&", sts.BodyText);
        Assert.Contains("RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fbedrock-caller", sts.BodyText);
        Assert.Equal(2, h.Sim.Requests.Count);
        foreach (var r in h.Sim.Requests)
        {
            Assert.Contains("Credential=ASIASIM00000001/", r.Headers["Authorization"]);
            Assert.Equal("FwoGZXIvYXdzEJr//sim-token-1", r.Headers["x-amz-security-token"]);
            Assert.Equal(BedrockHarness.ConversePath(region: "eu-central-1"), r.Path);
        }
    }

    [Fact]
    public async Task Credentials_expiring_within_five_minutes_are_fetched_again()
    {
        await using var h = await BedrockHarness.StartAsync(sim => new Dictionary<string, string> { ["AWS_ENDPOINT_URL_STS"] = sim.StsUrl });
        h.Sim.CredentialLifetime = TimeSpan.FromMinutes(4);
        var config = $$"""{"provider":"bedrock","aws_auth_type":"assumedRole","aws_role_arn":"arn:aws:iam::1:role/r","aws_access_key_id":"{{BedrockHarness.KeyId}}","aws_secret_access_key":"{{BedrockHarness.Secret}}"}""";
        Assert.Equal(HttpStatusCode.OK, (await h.ChatAsync(Body, Requests.Config(config))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await h.ChatAsync(Body, Requests.Config(config))).StatusCode);
        Assert.Equal(2, h.Sim.AssumeRoleCount);
    }

    [Fact]
    public async Task Sts_errors_fail_the_request_with_stss_message()
    {
        await using var h = await BedrockHarness.StartAsync(sim => new Dictionary<string, string> { ["AWS_ENDPOINT_URL_STS"] = sim.StsUrl });
        var config = """{"provider":"bedrock","aws_auth_type":"assumedRole","aws_role_arn":"arn:aws:iam::1:role/r","aws_access_key_id":"AKIDUNKNOWN","aws_secret_access_key":"x"}""";
        var response = await h.ChatAsync(Body, Requests.Config(config));
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Contains("InvalidClientTokenId", await response.Content.ReadAsStringAsync());
        Assert.Empty(h.Sim.Requests);
    }

    [Fact]
    public async Task Web_identity_from_the_environment_assumes_the_role_once()
    {
        var tokenFile = Path.Combine(Path.GetTempPath(), "switchyard-web-identity-" + Guid.NewGuid().ToString("N"));
        await File.WriteAllTextAsync(tokenFile, "eyJ.web-identity.token\n");
        try
        {
            await using var h = await BedrockHarness.StartAsync(sim => new Dictionary<string, string>
            {
                ["AWS_ENDPOINT_URL_STS"] = sim.StsUrl,
                ["AWS_WEB_IDENTITY_TOKEN_FILE"] = tokenFile,
                ["AWS_ROLE_ARN"] = "arn:aws:iam::123456789012:role/irsa",
                ["AWS_REGION"] = "ap-south-1",
            });
            h.Sim.WebIdentityTokens.Add("eyJ.web-identity.token");
            for (var i = 0; i < 2; i++)
            {
                var response = await h.ChatAsync(Body, ("x-portkey-provider", "bedrock"));
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }
            Assert.Equal(1, h.Sim.WebIdentityCount);
            var sts = Assert.Single(h.Sim.StsRequests);
            Assert.False(sts.Headers.ContainsKey("Authorization"));
            Assert.Contains("Action=AssumeRoleWithWebIdentity", sts.BodyText);
            Assert.Contains("WebIdentityToken=eyJ.web-identity.token", sts.BodyText);
            Assert.All(h.Sim.Requests, r =>
            {
                Assert.Equal(BedrockHarness.ConversePath(region: "ap-south-1"), r.Path);
                Assert.Contains("Credential=ASIASIM00000001/", r.Headers["Authorization"]);
            });
        }
        finally
        {
            File.Delete(tokenFile);
        }
    }

    [Fact]
    public async Task Bedrock_api_key_is_sent_as_a_bearer_token_without_sigv4()
    {
        await using var h = await BedrockHarness.StartAsync();
        h.Sim.ApiKeys.Add("ABSKbedrockkey");
        var response = await h.ChatAsync(Body, ("x-portkey-provider", "bedrock"), ("x-portkey-aws-auth-type", "apiKey"), ("Authorization", "Bearer ABSKbedrockkey"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var seen = Assert.Single(h.Sim.Requests);
        Assert.Equal("Bearer ABSKbedrockkey", seen.Headers["Authorization"]);
        Assert.False(seen.Headers.ContainsKey("x-amz-date"));
    }

    [Fact]
    public async Task Missing_credentials_are_a_clear_400_without_an_upstream_call()
    {
        await using var h = await BedrockHarness.StartAsync();
        var response = await h.ChatAsync(Body, ("x-portkey-provider", "bedrock"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("aws_access_key_id", Encoding.UTF8.GetString(await response.Content.ReadAsByteArrayAsync()));
        Assert.Empty(h.Sim.Requests);
    }
}
