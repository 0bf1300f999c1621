using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Switchyard.Core.Configs;
using Switchyard.Core.Providers;
using Switchyard.Core.Routing;
using Switchyard.Core.Security;
using Switchyard.Simulators;
using Switchyard.Tests.Infrastructure;
using Xunit;

namespace Switchyard.Tests.Configs;

/// <summary>A config key nothing reads is refused with its path, a reason and, for a typo, the key that was meant.</summary>
public sealed partial class UnreadConfigKeysTests
{
    private static readonly ConfigCompiler Compiler = new(new RetryOptions { MaxAttempts = 5 }, ProviderRegistry.Default, CustomHostValidator.FromEnvironment(null));

    private static List<ConfigError> Errors(string json)
    {
        var errors = new List<ConfigError>();
        var config = Compiler.Compile(JsonDocument.Parse(json).RootElement, "test", errors);
        Assert.True(config is null == errors.Count > 0);
        return errors;
    }

    private static void Refused(string json, string path, params string[] messageParts)
    {
        var errors = Errors(json);
        var at = errors.Where(e => e.Path == path).ToList();
        Assert.True(at.Count > 0, $"expected an error at '{path}', got: {string.Join(" | ", errors)}");
        foreach (var part in messageParts)
        {
            Assert.Contains(at, e => e.Message.Contains(part, StringComparison.Ordinal));
        }
    }

    private static void Accepted(string json) => Assert.Empty(Errors(json));

    [Theory]
    [InlineData("""{"provider":"openai","api_key":"k","virtual_key":"vk-1"}""", "api_key", "takes its credential from the virtual key")]
    [InlineData("""{"virtualKey":"vk-1","custom_host":"https://example.com/v1"}""", "custom_host", "cannot be combined with virtual_key")]
    [InlineData("""{"custom_host":"https://example.com/v1","strategy":{"mode":"single"},"targets":[{"virtual_key":"vk-1"}]}""", "targets[0].virtual_key", "set here or inherited")]
    [InlineData("""{"virtual_key":"vk-1","resource_name":"attacker"}""", "resource_name", "provider settings come from the virtual key")]
    [InlineData("""{"strategy":{"mode":"fallback"},"virtual_key":"vk-1","targets":[{"provider":"openai"}]}""", "virtual_key", "set it on each target")]
    [InlineData("""{"strategy":{"mode":"fallback"},"targets":[{"provider":"openai","on_status_codes":[429]}]}""", "targets[0].on_status_codes", "legacy", "strategy.on_status_codes")]
    [InlineData("""{"provider":"openai","id":"t-1"}""", "id", "not used by Switchyard", "name")]
    [InlineData("""{"provider":"openai","prompt_id":"p-1"}""", "prompt_id", "prompt templates are not available")]
    [InlineData("""{"strategy":{"mode":"loadbalance","sticky":{"enabled":true,"hash_fields":["metadata.user"]}},"targets":[{"provider":"openai"}]}""", "strategy.sticky", "sticky load balancing is not available")]
    [InlineData("""{"strategy":{"mode":"fallback","cb_config":{"failure_threshold":3}},"targets":[{"provider":"openai"}]}""", "strategy.cb_config", "circuit breaker is not available")]
    public void Portkey_keys_this_version_does_not_honour_are_refused_with_a_reason_and_virtual_keys_cannot_be_redirected(string json, string path, params string[] message) => Refused(json, path, message);

    [Theory]
    [InlineData("""{"provider":"openai","overide_params":{"model":"gpt-4o"}}""", "overide_params", "did you mean 'override_params'")]
    [InlineData("""{"provider":"openai","overideParams":{"model":"gpt-4o"}}""", "overideParams", "did you mean 'override_params'")]
    [InlineData("""{"provider":"openai","apikey":"k"}""", "apikey", "did you mean 'api_key'")]
    [InlineData("""{"provider":"openai","request_timout":100}""", "request_timout", "did you mean 'request_timeout'")]
    [InlineData("""{"provider":"openai","custom_hots":"http://localhost:1/v1"}""", "custom_hots", "did you mean 'custom_host'")]
    [InlineData("""{"provider":"openai","openai_organisation":"org"}""", "openai_organisation", "did you mean 'openai_organization'")]
    [InlineData("""{"provider":"azure-openai","api_key":"k","resource_name":"r","deployment_id":"d","api_verison":"2024-10-21"}""", "api_verison", "did you mean 'api_version'")]
    [InlineData("""{"provider":"openai","temperature":0.2}""", "temperature", "unknown key 'temperature'", "refused rather than ignored")]
    [InlineData("""{"provider":"openai","mode":"fallback"}""", "mode", "did you mean strategy.mode")]
    [InlineData("""{"provider":"openai","attempts":3}""", "attempts", "did you mean retry.attempts")]
    [InlineData("""{"strategy":{"mode":"fallback","on_status_code":[429]},"targets":[{"provider":"openai"}]}""", "strategy.on_status_code", "did you mean 'on_status_codes'")]
    [InlineData("""{"provider":"openai","retry":{"attempts":2,"on_status_code":[429]}}""", "retry.on_status_code", "did you mean 'on_status_codes'")]
    [InlineData("""{"provider":"openai","retry":{"attempts":2,"backoff":"exponential"}}""", "retry.backoff", "unknown key 'backoff'")]
    [InlineData("""{"provider":"openai","cache":{"mode":"simple","maxAge":60,"max_ages":5}}""", "cache.max_ages", "did you mean 'max_age'")]
    [InlineData("""{"strategy":{"mode":"conditional","conditions":[{"query":{"metadata.a":1},"then":"t","than":"t"}]},"targets":[{"name":"t","provider":"openai"}]}""", "strategy.conditions[0].than", "did you mean 'then'")]
    public void Unknown_keys_are_refused_with_the_likely_intended_key(string json, string path, params string[] message) => Refused(json, path, message);

    [Theory]
    [InlineData("""{"provider":"openai","resource_name":"r"}""", "resource_name", "provider 'openai' does not read resource_name", "azure-openai")]
    [InlineData("""{"provider":"anthropic","aws_region":"us-east-1"}""", "aws_region", "provider 'anthropic' does not read aws_region", "bedrock")]
    [InlineData("""{"provider":"groq","openai_organization":"org"}""", "openai_organization", "provider 'groq' does not read openai_organization", "openai")]
    [InlineData("""{"provider":"azure-openai","api_key":"k","resource_name":"r","deployment_id":"d","azure_model_name":"gpt-4o"}""", "azure_model_name", "does not use")]
    [InlineData("""{"strategy":{"mode":"fallback"},"aws_region":"eu-west-1","targets":[{"provider":"bedrock"}]}""", "aws_region", "set it on each target")]
    [InlineData("""{"strategy":{"mode":"fallback"},"provider":"openai","targets":[{"api_key":"k","provider":"groq"}]}""", "provider", "do not inherit provider")]
    [InlineData("""{"strategy":{"mode":"fallback"},"api_key":"k","targets":[{"provider":"groq"}]}""", "api_key", "do not inherit api_key")]
    public void Provider_fields_are_refused_where_no_adapter_reads_them(string json, string path, params string[] message) => Refused(json, path, message);

    [Fact]
    public void Every_honoured_key_still_compiles()
    {
        Accepted("""
            {"strategy":{"mode":"fallback","on_status_codes":[429,503]},"retry":{"attempts":2,"on_status_codes":[429],"use_retry_after_header":false},
             "cache":{"mode":"simple","max_age":60},"request_timeout":1000,"override_params":{"temperature":0.1},
             "forward_headers":["x-a"],"strict_open_ai_compliance":true,"name":"root","weight":1,
             "targets":[
               {"provider":"openai","api_key":"k","openai_organization":"o","openai_project":"p","openai_beta":"assistants=v2","custom_host":"http://localhost:9/v1"},
               {"provider":"anthropic","api_key":"k","anthropic_version":"2023-06-01","anthropic_beta":"b"},
               {"provider":"azure-openai","api_key":"k","resource_name":"r","deployment_id":"d","api_version":"v","azure_auth_mode":"entra",
                "azure_entra_tenant_id":"t","azure_entra_client_id":"c","azure_entra_client_secret":"s","azure_entra_scope":"sc","azure_authority_host":"h",
                "azure_managed_client_id":"m","azure_workload_client_id":"w","azure_ad_token":"tok"},
               {"provider":"azure-openai","azureResourceName":"r","azure_deployment_id":"d","azure_api_version":"v"},
               {"provider":"bedrock","aws_access_key_id":"a","aws_secret_access_key":"s","aws_session_token":"t","aws_region":"us-east-1",
                "aws_auth_type":"assumedRole","aws_role_arn":"arn","aws_external_id":"e"},
               {"provider":"vertex-ai","api_key":"k","vertex_region":"us-east5","vertex_project_id":"p","vertex_auth_type":"workload",
                "vertex_service_account_json":{"type":"service_account"},"anthropic_version":"vertex-2023-10-16"},
               {"strategy":{"mode":"conditional","conditions":[{"query":{"metadata.a":1},"then":"x"}],"default":"x"},
                "targets":[{"name":"x","provider":"google","api_key":"k"}]}]}
            """);
        // Without a provider the target comes from x-portkey-provider, so any field some provider reads is kept for it.
        Accepted("""{"retry":{"attempts":1},"resource_name":"r","deployment_id":"d","aws_region":"eu-west-1"}""");
    }

    [Fact]
    public void Every_problem_is_reported_not_just_the_first()
    {
        var errors = Errors("""{"provider":"openai","virtual_key":"v","overide_params":{},"resource_name":"r","retry":{"attempts":1,"attempt":2}}""");
        Assert.Equal(["overide_params", "resource_name", "resource_name", "retry.attempt"], errors.Select(e => e.Path).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Weights_whose_sum_overflows_are_refused()
    {
        Refused("""{"strategy":{"mode":"loadbalance"},"targets":[{"provider":"openai","weight":1e308},{"provider":"openai","weight":1e308}]}""", "targets", "more than a number can hold");
        Refused("""{"strategy":{"mode":"loadbalance"},"targets":[{"provider":"openai","weight":1e400}]}""", "targets[0].weight", "must be a number");
    }

    [Fact]
    public async Task A_virtual_key_in_an_inline_config_without_virtual_keys_configured_is_a_400_naming_the_key()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        var response = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(), Requests.Config("""{"virtual_key":"openai-prod"}""")));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = await response.JsonAsync();
        Assert.Equal("The config uses virtual key 'openai-prod', which is not loaded (no virtual keys are configured: set VIRTUAL_KEYS_PATH)", body.GetProperty("message").GetString());
        Assert.Empty(sim.Requests);
    }

    [Fact]
    public async Task A_named_config_with_a_typo_is_not_loaded_and_the_problem_is_logged_with_its_path()
    {
        await using var gw = await TestGateway.StartAsync(new Dictionary<string, string>
        {
            ["typo.yaml"] = "provider: openai\napi_key: k\noveride_params:\n  model: gpt-4o\n",
        });
        var problem = Assert.Single(gw.Engine.NamedConfigs.Current.Problems);
        Assert.Equal("overide_params", problem.Path);
        Assert.Contains("did you mean 'override_params'", problem.Message);
        Assert.False(gw.Engine.NamedConfigs.TryGet("typo", out _));
    }

    [GeneratedRegex("""Field\(((?:\s*"[a-z0-9_]+"\s*,?)+)\)""")]
    private static partial Regex FieldCall();

    [GeneratedRegex("\"([a-z0-9_]+)\"")]
    private static partial Regex Literal();

    /// <summary>Adding a field to an adapter without adding it to the catalog would make the compiler refuse a field that works.</summary>
    [Fact]
    public void The_field_catalog_lists_every_field_an_adapter_reads()
    {
        var providers = Path.Combine(RepoPaths.Root, "src", "Switchyard.Core", "Providers");
        var read = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(providers, "*.cs", SearchOption.AllDirectories))
        {
            foreach (Match call in FieldCall().Matches(File.ReadAllText(file)))
            {
                foreach (Match name in Literal().Matches(call.Groups[1].Value))
                {
                    read.Add(name.Groups[1].Value);
                }
            }
        }
        Assert.Contains("resource_name", read);
        Assert.Contains("aws_region", read);
        Assert.Contains("vertex_auth_type", read);
        Assert.Equal([], read.Where(f => !ProviderFieldCatalog.All.Contains(f)).ToArray());
        // And every header-mode field a provider reads is also accepted in a config.
        Assert.Equal([], ProviderCatalog.OpenAiCompatible.SelectMany(p => p.FieldHeaders).Select(h => h.Field).Where(f => !ProviderFieldCatalog.All.Contains(f)).ToArray());
    }
}
