using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Switchyard.Core.Configs;
using Switchyard.Core.Providers;
using Switchyard.Core.Routing;
using Switchyard.Core.Security;
using Xunit;

namespace Switchyard.Tests.Configs;

/// <summary>Config text built to hurt (deep, self-multiplying, ambiguous) is refused with a reason instead of crashing the loader.</summary>
public sealed class HostileConfigTextTests
{
    private static readonly ConfigCompiler Compiler = new(new RetryOptions(), ProviderRegistry.Default, CustomHostValidator.FromEnvironment(null));

    [Fact]
    public void Yaml_nested_thousands_deep_is_refused_before_the_recursive_loader_sees_it()
    {
        Assert.Null(ConfigText.ParseYaml(new string('[', 10_000) + new string(']', 10_000), out var flow));
        Assert.Contains("nested too deeply", flow);
        var block = string.Concat(Enumerable.Range(0, 2000).Select(i => new string(' ', i) + "a:\n")) + new string(' ', 2000) + "b: 1\n";
        Assert.Null(ConfigText.ParseYaml(block, out var blockError));
        Assert.Contains("nested too deeply", blockError);
        // Depth the compiler would accept as JSON still loads as YAML.
        Assert.NotNull(ConfigText.ParseYaml(new string('[', 30) + new string(']', 30), out _));
    }

    [Fact]
    public void Yaml_aliases_that_multiply_into_billions_of_values_are_refused()
    {
        var laughs = new StringBuilder("a0: &a0 [\"lol\"]\n");
        for (var i = 1; i <= 12; i++)
        {
            laughs.Append($"a{i}: &a{i} [{string.Join(",", Enumerable.Repeat($"*a{i - 1}", 10))}]\n");
        }
        Assert.Null(ConfigText.ParseYaml(laughs.ToString(), out var error));
        Assert.Contains("expands to more than", error);
        // An alias used a few times is ordinary YAML and still works.
        var node = ConfigText.ParseYaml("base: &b {attempts: 2}\nretry: *b\n", out var ok);
        Assert.Null(ok);
        Assert.Equal(2, node!["retry"]!["attempts"]!.GetValue<long>());
    }

    [Fact]
    public void A_yaml_key_that_is_not_a_plain_value_is_refused()
    {
        Assert.Null(ConfigText.ParseYaml("? [a, b]\n: 1\nprovider: openai\n", out var error));
        Assert.Contains("not a plain value", error);
    }

    [Fact]
    public void A_duplicate_key_in_a_json_file_is_a_parse_error()
    {
        Assert.Null(ConfigText.ParseJson("""{"provider":"openai","provider":"groq"}""", out var error));
        Assert.Contains("provider", error);
    }

    [Fact]
    public void Duplicate_keys_and_lone_surrogates_in_a_config_are_refused_at_their_path()
    {
        var errors = new List<ConfigError>();
        var json = """{"provider":"openai","api_key":"k","override_params":{"model":"\uD800","temperature":1,"temperature":2},"targets":"x","targets":"y"}""";
        Assert.Null(Compiler.Compile(JsonDocument.Parse(json).RootElement, "test", errors));
        Assert.Contains(errors, e => e.Path == "override_params.model" && e.Message.Contains("unpaired UTF-16 surrogate", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Path == "override_params.temperature" && e.Message.Contains("given twice", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Path == "targets" && e.Message.Contains("given twice", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("""{"provider":"openai","api_key":"k\r\nx-injected: 1"}""", "api_key", "U+000D")]
    [InlineData("""{"provider":"openai","api_key":"ключ"}""", "api_key", "U+043A")]
    [InlineData("""{"provider":"openai","openai_organization":"organización"}""", "openai_organization", "U+00F3")]
    [InlineData("""{"provider":"openai","openai_organization":{"a":1}}""", "openai_organization", "must be a string")]
    [InlineData("""{"provider":"azure-openai","resource_name":"ré","deployment_id":"d"}""", "resource_name", "U+00E9")]
    public void Credentials_and_provider_fields_must_be_sendable_in_a_header(string json, string path, string message)
    {
        var errors = new List<ConfigError>();
        Assert.Null(Compiler.Compile(JsonDocument.Parse(json).RootElement, "test", errors));
        Assert.Contains(errors, e => e.Path == path && e.Message.Contains(message, StringComparison.Ordinal));
    }

    [Fact]
    public void A_service_account_document_may_hold_line_breaks()
    {
        var errors = new List<ConfigError>();
        var json = """{"provider":"vertex-ai","vertex_region":"us-east5","vertex_service_account_json":"{\"private_key\":\"-----BEGIN\nabc\n-----END\"}"}""";
        Assert.NotNull(Compiler.Compile(JsonDocument.Parse(json).RootElement, "test", errors));
        Assert.Empty(errors);
    }

    [Fact]
    public void Credential_references_pass_over_a_string_that_is_not_valid_unicode()
    {
        var node = JsonNode.Parse("""{"a":"\uD800","b":"${KEY}"}""");
        var missing = CredentialReferences.Resolve(node, _ => "v");
        Assert.Empty(missing);
        Assert.Equal("v", node!["b"]!.GetValue<string>());
    }
}
