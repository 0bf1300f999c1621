using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Switchyard.Core.Providers;
using Switchyard.Core.Security;
using Switchyard.Core.Security.VirtualKeys;
using Xunit;

namespace Switchyard.Tests.Security;

/// <summary>The virtual-key file format: what loads, what is refused (with its path, never its value), and the <c>@slug/model</c> form.</summary>
public sealed class VirtualKeyFileTests
{
    private static readonly Dictionary<string, string> Env = new()
    {
        ["OPENAI_PROD_KEY"] = "sk-env-secret",
        ["AWS_ID"] = "AKIDENV",
        ["AWS_SECRET"] = "aws-env-secret",
        ["EMPTY"] = "",
        ["MISSING_FILE"] = "/nonexistent/switchyard/secret",
    };

    private static (List<VirtualKey>? Keys, List<(string Path, string Message)> Errors, List<string> Warnings) Parse(string yaml,
        IReadOnlyDictionary<string, string>? env = null)
    {
        var errors = new List<(string, string)>();
        var warnings = new List<string>();
        var e = env ?? Env;
        var context = new VirtualKeyFile.Context(ProviderRegistry.Default, CustomHostValidator.FromEnvironment(null), name => e.TryGetValue(name, out var v) ? v : null);
        return (VirtualKeyFile.Parse(yaml, "keys.yaml", context, errors, warnings), errors, warnings);
    }

    [Fact]
    public void A_full_entry_loads_with_credentials_from_the_environment_and_never_prints_them()
    {
        var (keys, errors, warnings) = Parse("""
            virtual_keys:
              - slug: openai-prod
                provider: openai
                description: payments traffic
                api_key: ${OPENAI_PROD_KEY}
                models: [gpt-4o, gpt-4o-mini]
                custom_host: https://llm-proxy.example.com/v1/
                headers: {x-team: a}
                rate_limits: [{requests: 100, per: minute}]
                budgets: [{cost: 50, period: month}]
              - slug: bedrock-eu
                provider: bedrock
                aws_access_key_id: ${AWS_ID}
                aws_secret_access_key: ${ AWS_SECRET }
                aws_region: eu-central-1
            """);
        Assert.Empty(errors);
        Assert.Empty(warnings);
        var openai = keys![0];
        Assert.Equal(("openai-prod", "openai", "sk-env-secret"), (openai.Slug, openai.Provider, openai.ApiKey));
        Assert.Equal("https://llm-proxy.example.com/v1", openai.CustomHost);
        Assert.Equal(["gpt-4o", "gpt-4o-mini"], openai.Models!.Order(StringComparer.Ordinal));
        Assert.Equal("a", openai.Headers["X-Team"]);
        Assert.Equal(["100 requests per minute", "50 USD per month"], openai.Limits.Select(r => r.Describe()));
        Assert.DoesNotContain("sk-env-secret", openai.ToString(), StringComparison.Ordinal);
        var bedrock = keys[1];
        Assert.Null(bedrock.ApiKey);
        Assert.Equal("aws-env-secret", bedrock.ProviderFields["aws_secret_access_key"]);
        Assert.Equal("eu-central-1", bedrock.ProviderFields["aws_region"]);
    }

    [Theory]
    [InlineData("api_key: sk-literal-value", "$.virtual_keys[0].api_key")]
    [InlineData("api_key: Bearer ${OPENAI_PROD_KEY}", "$.virtual_keys[0].api_key")]
    [InlineData("api_key: 12345678", "$.virtual_keys[0].api_key")]
    [InlineData("headers: {Authorization: Bearer sk-literal-value}", "$.virtual_keys[0].headers.Authorization")]
    [InlineData("openai_api_key: sk-literal-value", "$.virtual_keys[0].openai_api_key")]
    public void A_credential_written_in_the_file_is_refused_with_its_path_and_without_its_value(string line, string path)
    {
        var (keys, errors, _) = Parse($"virtual_keys:\n  - slug: a\n    provider: openai\n    {line}\n");
        Assert.Null(keys);
        var error = Assert.Single(errors);
        Assert.Equal(path, error.Path);
        Assert.DoesNotContain("sk-literal-value", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("12345678", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Aws_and_vertex_secrets_must_be_references_too()
    {
        var (keys, errors, _) = Parse("""
            - slug: b
              provider: bedrock
              aws_access_key_id: AKIDLITERAL
              aws_secret_access_key: literal-aws-secret
            - slug: v
              provider: vertex-ai
              vertex_service_account_json: '{"private_key": "literal"}'
            """);
        Assert.Null(keys);
        Assert.Equal(["$[0].aws_access_key_id", "$[0].aws_secret_access_key", "$[1].vertex_service_account_json"], errors.Select(e => e.Path).Order(StringComparer.Ordinal));
        Assert.All(errors, e => Assert.DoesNotContain("literal", e.Message, StringComparison.Ordinal));
    }

    [Fact]
    public void A_reference_without_a_value_names_the_variable()
    {
        var (_, errors, _) = Parse("""
            - slug: a
              provider: openai
              api_key: ${NOT_SET}
            - slug: b
              provider: openai
              api_key: ${EMPTY}
            - slug: c
              provider: openai
              api_key: ${MISSING_FILE}
            """);
        Assert.Equal(("$[0].api_key", "virtual key 'a': environment variable NOT_SET is not set"), errors[0]);
        Assert.Equal(("$[1].api_key", "virtual key 'b': environment variable EMPTY is empty"), errors[1]);
        Assert.Equal(("$[2].api_key", "virtual key 'c': environment variable MISSING_FILE names the file /nonexistent/switchyard/secret, which does not exist"), errors[2]);
    }

    [Fact]
    public void A_variable_naming_a_mounted_file_gives_the_files_content()
    {
        var file = Path.GetTempFileName();
        try
        {
            File.WriteAllText(file, "sk-from-mounted-file\n", Encoding.UTF8);
            var (keys, errors, _) = Parse("- {slug: a, provider: openai, api_key: '${KEY_FILE}'}", new Dictionary<string, string> { ["KEY_FILE"] = file });
            Assert.Empty(errors);
            Assert.Equal("sk-from-mounted-file", keys![0].ApiKey);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void Unknown_fields_warn_and_shape_errors_name_the_field()
    {
        var (keys, errors, warnings) = Parse("""
            - slug: a
              provider: openai
              colour: blue
              resource_name: r
            """);
        Assert.Empty(errors);
        Assert.Single(keys!);
        Assert.Contains(warnings, w => w.Contains("unknown field 'colour'", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.Contains("'resource_name', which provider 'openai' does not read", StringComparison.Ordinal));

        var (_, bad, _) = Parse("""
            - slug: has/slash
              provider: no-such-provider
            - provider: openai
            - slug: c
            """);
        Assert.Equal(["$[0].provider", "$[0].slug", "$[1]", "$[2].provider"], bad.Select(e => e.Path).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void The_store_reports_a_slug_defined_twice_and_keeps_the_first()
    {
        var dir = Directory.CreateTempSubdirectory("switchyard-vk-unit-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "a.yaml"), "- {slug: same, provider: openai, api_key: '${OPENAI_PROD_KEY}'}\n");
            File.WriteAllText(Path.Combine(dir, "b.yaml"), "- {slug: same, provider: anthropic, api_key: '${OPENAI_PROD_KEY}'}\n");
            using var store = new VirtualKeyStore(dir, new VirtualKeyFile.Context(ProviderRegistry.Default, CustomHostValidator.FromEnvironment(null),
                name => Env.TryGetValue(name, out var v) ? v : null), NullLogger.Instance, TimeProvider.System);
            store.Start();
            Assert.True(store.TryGet("same", out var key));
            Assert.Equal("openai", key.Provider);
            Assert.Equal("same", Assert.Single(store.All).Slug);
            var problem = Assert.Single(store.Current.Problems);
            Assert.Equal("b.yaml", problem.File);
            Assert.Contains("also defined in a.yaml", problem.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task A_rotated_secret_file_is_picked_up_without_touching_the_virtual_key_file()
    {
        var dir = Directory.CreateTempSubdirectory("switchyard-vk-rotate-").FullName;
        try
        {
            var secret = Path.Combine(dir, "secret", "openai");
            Directory.CreateDirectory(Path.GetDirectoryName(secret)!);
            File.WriteAllText(secret, "sk-before-rotation");
            var keys = Path.Combine(dir, "keys.yaml");
            File.WriteAllText(keys, "- {slug: a, provider: openai, api_key: '${KEY_FILE}'}\n");
            using var store = new VirtualKeyStore(keys, new VirtualKeyFile.Context(ProviderRegistry.Default, CustomHostValidator.FromEnvironment(null),
                name => name == "KEY_FILE" ? secret : null), NullLogger.Instance, TimeProvider.System, pollInterval: TimeSpan.FromMilliseconds(200));
            store.Start();
            Assert.True(store.TryGet("a", out var before));
            Assert.Equal("sk-before-rotation", before.ApiKey);
            var rotated = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            store.Reloaded += _ =>
            {
                if (store.TryGet("a", out var k) && k.ApiKey == "sk-after-rotation")
                {
                    rotated.TrySetResult();
                }
            };
            File.WriteAllText(secret, "sk-after-rotation\n");
            await rotated.Task.WaitAsync(TimeSpan.FromSeconds(15));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("@openai-prod/gpt-4o", true, "openai-prod", "gpt-4o")]
    [InlineData("@azure/deployments/x", true, "azure", "deployments/x")]
    [InlineData("@cf/meta/llama-3", false, "", "")]
    [InlineData("@hf/thebloke/x", false, "", "")]
    [InlineData("gpt-4o", false, "", "")]
    [InlineData("@/gpt-4o", false, "", "")]
    [InlineData("@slug-only", false, "", "")]
    public void The_model_form_is_recognised_except_for_workers_ai(string model, bool matches, string slug, string rest)
    {
        Assert.Equal(matches, VirtualKeyReferences.TrySplitModel(model, out var s, out var r));
        Assert.Equal((slug, rest), (s, r));
    }

    [Fact]
    public void Rewriting_the_model_keeps_every_other_byte()
    {
        var body = """{"messages":[{"role":"user","content":"a \"model\": b"}],  "model" : "@k\/gpt-4o","stream":true}"""u8.ToArray();
        var rewritten = Encoding.UTF8.GetString(VirtualKeyReferences.ReplaceModel(body, "gpt-4o").Span);
        Assert.Equal("""{"messages":[{"role":"user","content":"a \"model\": b"}],  "model" : "gpt-4o","stream":true}""", rewritten);
    }
}
