using System.Text.Json;
using Switchyard.Core.Configs;
using Switchyard.Core.Providers;
using Switchyard.Core.Routing;
using Switchyard.Core.Security;
using Xunit;

namespace Switchyard.Tests.Configs;

/// <summary>Validation rules and inheritance of the config compiler, without a server.</summary>
public sealed class ConfigCompilerTests
{
    private static readonly ConfigCompiler Compiler = new(new RetryOptions { MaxAttempts = 5 }, ProviderRegistry.Default, CustomHostValidator.FromEnvironment(null));

    private static (RoutingConfig? Config, List<ConfigError> Errors) Compile(string json)
    {
        var errors = new List<ConfigError>();
        var config = Compiler.Compile(JsonDocument.Parse(json).RootElement, "test", errors);
        return (config, errors);
    }

    private static RoutingConfig Valid(string json)
    {
        var (config, errors) = Compile(json);
        Assert.True(config is not null, string.Join("\n", errors));
        return config!;
    }

    private static void Invalid(string json, string path, string messageContains)
    {
        var (config, errors) = Compile(json);
        Assert.Null(config);
        Assert.Contains(errors, e => e.Path == path && e.Message.Contains(messageContains, StringComparison.Ordinal));
    }

    [Fact]
    public void Children_inherit_settings_unless_they_set_their_own()
    {
        var config = Valid("""
            {"retry":{"attempts":2},"request_timeout":1000,"custom_host":"http://localhost:9000/v1","forward_headers":["x-a"],
             "override_params":{"temperature":0.5,"top_p":0.9},
             "strategy":{"mode":"fallback"},
             "targets":[
               {"provider":"openai","api_key":"k"},
               {"provider":"openai","api_key":"k","retry":{"attempts":4,"on_status_codes":[429]},"request_timeout":50,
                "custom_host":"http://127.0.0.1:9001/v1","forward_headers":[],"override_params":{"temperature":0.1}}]}
            """);
        var inherited = config.Root.Targets[0].Settings;
        Assert.Equal(2, inherited.Retry!.Attempts);
        Assert.Equal(RetrySettings.DefaultStatusCodes, inherited.Retry.OnStatusCodes);
        Assert.Equal(1000, inherited.RequestTimeoutMs);
        Assert.Equal("http://localhost:9000/v1", inherited.CustomHost);
        Assert.Equal(["x-a"], inherited.ForwardHeaders!);
        Assert.Equal(0.5, inherited.OverrideParams!["temperature"]!.GetValue<double>());

        var own = config.Root.Targets[1].Settings;
        Assert.Equal(4, own.Retry!.Attempts);
        Assert.Equal(new HashSet<int> { 429 }, own.Retry.OnStatusCodes);
        Assert.Equal(50, own.RequestTimeoutMs);
        Assert.Equal("http://127.0.0.1:9001/v1", own.CustomHost);
        Assert.Empty(own.ForwardHeaders!);
        // override_params merges parent → child, child wins.
        Assert.Equal(0.1, own.OverrideParams!["temperature"]!.GetValue<double>());
        Assert.Equal(0.9, own.OverrideParams!["top_p"]!.GetValue<double>());
        Assert.Equal("config.targets[1]", config.Root.Targets[1].OptionPath);
    }

    [Fact]
    public void Portkey_camel_case_spellings_are_accepted()
    {
        var config = Valid("""{"provider":"openai","apiKey":"k","overrideParams":{"maxTokens":5},"requestTimeout":300,"retry":{"attempts":1,"onStatusCodes":[500]}}""");
        Assert.Equal("k", config.Root.ApiKey);
        Assert.Equal(300, config.Root.Settings.RequestTimeoutMs);
        // Keys inside override_params are request parameters and are left alone.
        Assert.True(config.Root.Settings.OverrideParams!.ContainsKey("maxTokens"));
        Assert.Equal(new HashSet<int> { 500 }, config.Root.Settings.Retry!.OnStatusCodes);
    }

    [Fact]
    public void Retry_attempts_are_clamped_and_provider_fields_are_collected()
    {
        // No provider: it comes from x-portkey-provider, so every field some provider reads is collected (a named provider would refuse the others).
        var config = Valid("""{"api_key":"k","retry":{"attempts":50},"openai_organization":"org-1","deployment_id":"d","vertex_service_account_json":{"a":1}}""");
        Assert.Equal(5, config.Root.Settings.Retry!.Attempts);
        Assert.Equal("org-1", config.Root.ProviderFields["openai_organization"]);
        Assert.Equal("d", config.Root.ProviderFields["deployment_id"]);
        Assert.Equal("{\"a\":1}", config.Root.ProviderFields["vertex_service_account_json"]);
    }

    [Fact]
    public void A_config_without_provider_takes_it_from_headers_and_a_target_without_key_is_valid()
    {
        Assert.True(Valid("""{"retry":{"attempts":3}}""").TakesProviderFromHeaders);
        Assert.False(Valid("""{"provider":"anthropic"}""").TakesProviderFromHeaders);
    }

    [Theory]
    [InlineData("""{}""", "", "the config is empty")]
    [InlineData("""{"targets":[{"provider":"openai"}]}""", "strategy", "targets need a strategy")]
    [InlineData("""{"strategy":{"mode":"fallback"}}""", "targets", "non-empty targets")]
    [InlineData("""{"strategy":{"mode":"fallback"},"targets":[]}""", "targets", "non-empty array")]
    [InlineData("""{"strategy":{"mode":"fallback"},"targets":[{"api_key":"k"}]}""", "targets[0]", "needs a provider")]
    [InlineData("""{"strategy":{"mode":"loadbalance"},"targets":[{"provider":"openai","weight":0},{"provider":"groq","weight":0}]}""", "targets", "weight > 0")]
    [InlineData("""{"strategy":{"mode":"loadbalance","on_status_codes":[500]},"targets":[{"provider":"openai"}]}""", "strategy.on_status_codes", "only applies to mode fallback")]
    [InlineData("""{"strategy":{"mode":"fallback","on_status_codes":[42]},"targets":[{"provider":"openai"}]}""", "strategy.on_status_codes", "not an HTTP status code")]
    [InlineData("""{"strategy":{"mode":"conditional","conditions":[{"query":{"metadata.a":1},"then":"ghost"}]},"targets":[{"name":"real","provider":"openai"}]}""", "strategy.conditions[0].then", "no target is named 'ghost'")]
    [InlineData("""{"strategy":{"mode":"conditional","conditions":[{"query":{"metadata.a":{"$near":1}},"then":"t"}]},"targets":[{"name":"t","provider":"openai"}]}""", "strategy.conditions[0].query.metadata.a.$near", "")]
    [InlineData("""{"strategy":{"mode":"conditional","conditions":[],"default":"ghost"},"targets":[{"name":"t","provider":"openai"}]}""", "strategy.default", "no target is named")]
    [InlineData("""{"provider":"ollama"}""", "custom_host", "set custom_host")]
    [InlineData("""{"provider":"openai","request_timeout":-5}""", "request_timeout", "positive")]
    [InlineData("""{"provider":"openai","retry":{"on_status_codes":[429]}}""", "retry.attempts", "required")]
    [InlineData("""{"provider":"openai","cache":{"mode":"fuzzy"}}""", "cache.mode", "simple or semantic")]
    [InlineData("""{"provider":"openai","forward_headers":["x-portkey-forward-headers"]}""", "forward_headers", "must not contain")]
    [InlineData("""{"provider":"openai","custom_host":"http://10.0.0.1/v1"}""", "custom_host", "")]
    [InlineData("""{"provider":"openai","strategy":"fallback"}""", "strategy", "must be an object")]
    public void Invalid_configs_are_reported_at_their_path(string json, string path, string message) => Invalid(json, path, message);

    [Fact]
    public void Yaml_plain_scalars_are_typed_and_quoted_ones_stay_strings()
    {
        var node = ConfigText.ParseYaml("a: 123\nb: \"123\"\nc: true\nd: 1.5\ne: ~\nf: '2024-10-21'\ng: 2024-10-21\nh: [1, x]\n", out var error);
        Assert.Null(error);
        Assert.Equal("""{"a":123,"b":"123","c":true,"d":1.5,"e":null,"f":"2024-10-21","g":"2024-10-21","h":[1,"x"]}""", node!.ToJsonString());
        Assert.Null(ConfigText.ParseYaml("a: [1,", out var broken));
        Assert.Contains("line", broken);
    }

    [Fact]
    public void Credential_references_resolve_from_the_environment_and_from_mounted_files()
    {
        var secretFile = Path.GetTempFileName();
        File.WriteAllText(secretFile, "sk-from-file\n");
        try
        {
            var env = new Dictionary<string, string> { ["KEY"] = "sk-1", ["MOUNTED"] = secretFile };
            var node = System.Text.Json.Nodes.JsonNode.Parse("""{"a":"${KEY}","b":["x-${KEY}-y","${MOUNTED}"],"c":{"d":"${MISSING}"},"e":"plain"}""");
            var missing = CredentialReferences.Resolve(node, n => env.GetValueOrDefault(n));
            Assert.Equal("""{"a":"sk-1","b":["x-sk-1-y","sk-from-file"],"c":{"d":""},"e":"plain"}""", node!.ToJsonString());
            Assert.Equal(["MISSING"], missing);
        }
        finally
        {
            File.Delete(secretFile);
        }
    }
}
