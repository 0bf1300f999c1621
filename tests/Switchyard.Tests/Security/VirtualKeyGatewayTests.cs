using System.Net;
using System.Text.Json;
using Switchyard.Core;
using Switchyard.Core.Security.ApiKeys;
using Switchyard.Core.Security.VirtualKeys;
using Switchyard.Simulators;
using Switchyard.Simulators.Anthropic;
using Switchyard.Simulators.Azure;
using Switchyard.Simulators.Bedrock;
using Switchyard.Simulators.Google;
using Switchyard.Tests.Infrastructure;
using Switchyard.Tests.Logs;
using Xunit;

namespace Switchyard.Tests.Security;

/// <summary>
/// Virtual keys through the real gateway and the provider simulators: every resolution form, the credential (from an environment
/// variable or a mounted secret file) in the provider's own auth form, provider settings shaping the URL, refusals, reload.
/// </summary>
public sealed class VirtualKeyGatewayTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const string OpenAiSecret = "sk-vk-openai-secret-1";

    private sealed class Setup : IAsyncDisposable
    {
        public required TestGateway Gateway { get; init; }

        public required string Directory { get; init; }

        public string File => Path.Combine(Directory, "keys.yaml");

        public VirtualKeyStore Store => Gateway.Engine.VirtualKeys!;

        /// <summary>Replaces the file in one rename, so no reload ever sees it half written (dot files are not loaded).</summary>
        public async Task ReplaceAsync(string yaml)
        {
            var temp = Path.Combine(Directory, ".keys.yaml.tmp");
            await System.IO.File.WriteAllTextAsync(temp, yaml);
            System.IO.File.Move(temp, File, overwrite: true);
        }

        public async ValueTask DisposeAsync()
        {
            await Gateway.DisposeAsync();
            System.IO.Directory.Delete(Directory, recursive: true);
        }
    }

    private static async Task<Setup> StartAsync(string yaml, IReadOnlyDictionary<string, string> env, Func<GatewaySettings, GatewaySettings>? more = null,
        IReadOnlyDictionary<string, string>? configs = null, Func<ServerOptions, ServerOptions>? server = null)
    {
        var dir = Directory.CreateTempSubdirectory("switchyard-vkeys-").FullName;
        await File.WriteAllTextAsync(Path.Combine(dir, "keys.yaml"), yaml);
        var gw = await TestGateway.StartAsync(configs, s => (more?.Invoke(s) ?? s) with
        {
            VirtualKeys = new VirtualKeyOptions { Path = dir, ReloadDebounce = TimeSpan.FromMilliseconds(50) },
        }, env, server: server);
        return new Setup { Gateway = gw, Directory = dir };
    }

    private static string OpenAiKey(Uri upstream, string slug = "openai-prod", string extra = "") => $"""
          - slug: {slug}
            provider: openai
            api_key: {"${OPENAI_PROD_KEY}"}
            custom_host: {upstream}
            headers: {"{"}x-team: payments{"}"}
        {extra}
        """;

    private static async Task<JsonElement> OkAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private static async Task<string> RefusedAsync(HttpResponseMessage response, HttpStatusCode status, string? code = null)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {text}");
        var root = JsonDocument.Parse(text).RootElement;
        Assert.Equal("failure", root.GetProperty("status").GetString());
        Assert.DoesNotContain(OpenAiSecret, text, StringComparison.Ordinal);
        if (code is not null)
        {
            var message = root.GetProperty("error").GetProperty("message").GetString()!;
            Assert.Equal(code, root.GetProperty("error").GetProperty("code").GetString());
            Assert.Equal($"Portkey Error: {message}. Error Code: {code}", root.GetProperty("message").GetString());
            Assert.Equal("true", response.Header("x-portkey-gateway-exception"));
            return message;
        }
        return root.GetProperty("message").GetString()!;
    }

    [Fact]
    public async Task OpenAi_every_form_sends_the_env_credential_as_bearer_to_the_keys_host_with_its_headers_and_logs_the_slug()
    {
        await using var sim = await OpenAiSimulator.StartAsync(new SimulatorOptions { RequiredApiKey = OpenAiSecret });
        await using var s = await StartAsync("virtual_keys:\n" + OpenAiKey(sim.BaseUrl), new Dictionary<string, string> { ["OPENAI_PROD_KEY"] = OpenAiSecret },
            configs: new Dictionary<string, string> { ["vk-named.json"] = """{"virtual_key":"openai-prod","retry":{"attempts":1}}""" });
        var gw = s.Gateway;
        // The client's own Authorization is never what reaches the provider when a virtual key is named.
        (string, string)[][] forms =
        [
            [("x-portkey-provider", "@openai-prod"), ("Authorization", "Bearer client-key")],
            [("x-portkey-virtual-key", "openai-prod"), ("Authorization", "Bearer client-key")],
            [],
            [("x-portkey-config", "vk-named")],
            [("x-portkey-config", """{"virtual_key":"openai-prod"}""")],
        ];
        for (var i = 0; i < forms.Length; i++)
        {
            var model = i == 2 ? "@openai-prod/gpt-4o" : "gpt-4o";
            var json = await OkAsync(await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat("form " + i, model: model),
                [.. forms[i], ("x-portkey-trace-id", "vk-form-" + i)])));
            Assert.Equal("echo: form " + i, json.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        }
        Assert.Equal(forms.Length, sim.Requests.Count);
        Assert.All(sim.Requests, r =>
        {
            Assert.Equal("Bearer " + OpenAiSecret, r.Headers["Authorization"]);
            Assert.Equal("payments", r.Headers["x-team"]);
            // "@openai-prod/gpt-4o" reaches the provider as gpt-4o.
            Assert.Equal("gpt-4o", JsonDocument.Parse(r.Body).RootElement.GetProperty("model").GetString());
        });
        for (var i = 0; i < forms.Length; i++)
        {
            var record = await RequestLogTests.RecordAsync(gw, "vk-form-" + i);
            Assert.Equal("openai-prod", record.GetProperty("virtual_key").GetString());
        }
        foreach (var file in Directory.EnumerateFiles(gw.Options.Engine.Logs.Directory, "*", SearchOption.AllDirectories))
        {
            Assert.DoesNotContain(OpenAiSecret, await File.ReadAllTextAsync(file), StringComparison.Ordinal);
        }
        var health = await gw.Client.GetStringAsync("/v1/health");
        Assert.DoesNotContain(OpenAiSecret, health, StringComparison.Ordinal);
        var vk = JsonDocument.Parse(health).RootElement.GetProperty("virtual_keys");
        Assert.Equal("ok", vk.GetProperty("state").GetString());
        Assert.Equal(1, vk.GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task A_client_cannot_send_a_virtual_keys_credential_elsewhere_and_unknown_slugs_are_400()
    {
        await using var sim = await OpenAiSimulator.StartAsync(new SimulatorOptions { RequiredApiKey = OpenAiSecret });
        await using var elsewhere = await OpenAiSimulator.StartAsync();
        await using var s = await StartAsync("virtual_keys:\n" + OpenAiKey(sim.BaseUrl), new Dictionary<string, string> { ["OPENAI_PROD_KEY"] = OpenAiSecret },
            configs: new Dictionary<string, string> { ["stale.json"] = """{"virtual_key":"removed-key"}""" });
        var gw = s.Gateway;
        Assert.Contains("x-portkey-custom-host cannot be combined with a virtual key", await RefusedAsync(await gw.SendAsync(TestGateway.Post("/v1/chat/completions",
            Requests.Chat(), ("x-portkey-virtual-key", "openai-prod"), ("x-portkey-custom-host", elsewhere.BaseUrl.ToString()))), HttpStatusCode.BadRequest));
        var inline = await RefusedAsync(await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(),
            ("x-portkey-config", $$"""{"virtual_key":"openai-prod","custom_host":"{{elsewhere.BaseUrl}}"}"""))), HttpStatusCode.BadRequest);
        Assert.Equal("Invalid config passed", inline);
        // A config written for the client's own key may not borrow the virtual key's credential for another host either.
        Assert.Contains("custom_host cannot be combined with a virtual key", await RefusedAsync(await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(),
            ("x-portkey-virtual-key", "openai-prod"), ("x-portkey-config", $$$"""{"custom_host":"{{{elsewhere.BaseUrl}}}","retry":{"attempts":0}}"""))), HttpStatusCode.BadRequest));
        Assert.Equal("Virtual key 'nope' was not found in VIRTUAL_KEYS_PATH", await RefusedAsync(await gw.SendAsync(TestGateway.Post("/v1/chat/completions",
            Requests.Chat(), ("x-portkey-virtual-key", "nope"))), HttpStatusCode.BadRequest));
        Assert.Equal("Virtual key 'nope' was not found in VIRTUAL_KEYS_PATH", await RefusedAsync(await gw.SendAsync(TestGateway.Post("/v1/chat/completions",
            Requests.Chat(model: "@nope/gpt-4o"))), HttpStatusCode.BadRequest));
        Assert.Equal("Config 'stale' uses virtual key 'removed-key', which is not loaded from VIRTUAL_KEYS_PATH", await RefusedAsync(await gw.SendAsync(
            TestGateway.Post("/v1/chat/completions", Requests.Chat(), ("x-portkey-config", "stale"))), HttpStatusCode.BadRequest));
        Assert.Contains("does not match virtual key 'openai-prod'", await RefusedAsync(await gw.SendAsync(TestGateway.Post("/v1/chat/completions",
            Requests.Chat(), ("x-portkey-provider", "anthropic"), ("x-portkey-virtual-key", "openai-prod"))), HttpStatusCode.BadRequest));
        Assert.Empty(sim.Requests);
        Assert.Empty(elsewhere.Requests);
        // Workers AI model names are not virtual keys.
        var cf = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(model: "@cf/meta/llama"), Requests.HeaderMode(elsewhere.BaseUrl)));
        Assert.Equal(HttpStatusCode.OK, cf.StatusCode);
        Assert.Equal("@cf/meta/llama", JsonDocument.Parse(Assert.Single(elsewhere.Requests).Body).RootElement.GetProperty("model").GetString());
    }

    [Fact]
    public async Task The_virtual_keys_model_list_and_the_gateway_keys_virtual_key_list_refuse_with_403_033()
    {
        await using var sim = await OpenAiSimulator.StartAsync(new SimulatorOptions { RequiredApiKey = OpenAiSecret });
        var keysDir = Directory.CreateTempSubdirectory("switchyard-keys-").FullName;
        await File.WriteAllTextAsync(Path.Combine(keysDir, "keys.yaml"), $"""
            keys:
              - name: alice
                hash: {ApiKeyHash.Format("sy-alice")}
                scopes: [completions.write]
                virtual_keys: [openai-prod]
            """);
        await using var s = await StartAsync("virtual_keys:\n" + OpenAiKey(sim.BaseUrl, extra: "    models: [gpt-4o]\n") + OpenAiKey(sim.BaseUrl, "openai-other"),
            new Dictionary<string, string> { ["OPENAI_PROD_KEY"] = OpenAiSecret },
            server: o => o with { Auth = new AuthOptions { Keys = true, ApiKeysPath = keysDir } });
        var gw = s.Gateway;
        try
        {
            await OkAsync(await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(model: "gpt-4o"),
                ("x-portkey-api-key", "sy-alice"), ("x-portkey-virtual-key", "openai-prod"))));
            Assert.Equal("Virtual key 'openai-prod' may not be used with model 'gpt-4o-mini'", await RefusedAsync(await gw.SendAsync(TestGateway.Post("/v1/chat/completions",
                Requests.Chat(model: "gpt-4o-mini"), ("x-portkey-api-key", "sy-alice"), ("x-portkey-virtual-key", "openai-prod"))), HttpStatusCode.Forbidden, "033"));
            await RefusedAsync(await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(model: "@openai-prod/gpt-4o-mini"),
                ("x-portkey-api-key", "sy-alice"))), HttpStatusCode.Forbidden, "033");
            Assert.Equal("API key 'alice' may not use virtual key 'openai-other'", await RefusedAsync(await gw.SendAsync(TestGateway.Post("/v1/chat/completions",
                Requests.Chat(model: "gpt-4o"), ("x-portkey-api-key", "sy-alice"), ("x-portkey-virtual-key", "openai-other"))), HttpStatusCode.Forbidden, "033"));
            await RefusedAsync(await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(model: "gpt-4o"),
                ("x-portkey-api-key", "sy-alice"), ("x-portkey-config", """{"strategy":{"mode":"fallback"},"targets":[{"virtual_key":"openai-prod"},{"virtual_key":"openai-other"}]}"""))),
                HttpStatusCode.Forbidden, "033");
            Assert.Single(sim.Requests);
        }
        finally
        {
            Directory.Delete(keysDir, recursive: true);
        }
    }

    [Fact]
    public async Task Azure_openai_takes_resource_deployment_and_version_from_the_key_and_the_api_key_from_a_mounted_secret_file()
    {
        await using var sim = await AzureOpenAiSimulator.StartAsync("azure-secret-from-file");
        var secretDir = Directory.CreateTempSubdirectory("switchyard-secret-").FullName;
        var secretFile = Path.Combine(secretDir, "azure-api-key");
        await File.WriteAllTextAsync(secretFile, "azure-secret-from-file\n");
        await using var s = await StartAsync("""
            virtual_keys:
              - slug: azure-prod
                provider: azure-openai
                api_key: ${AZURE_KEY}
                resource_name: myres
                deployment_id: gpt-4o
                api_version: "2024-10-21"
            """, new Dictionary<string, string> { ["AZURE_KEY"] = secretFile },
            more: g => g with { Upstream = g.Upstream with { BaseUrls = new Dictionary<string, string> { ["azure-openai"] = sim.BaseTemplate } } });
        var gw = s.Gateway;
        await OkAsync(await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(), ("x-portkey-config", """{"virtual_key":"azure-prod"}"""))));
        // A client's resource name would send the operator's key to another Azure resource: it is not used.
        await OkAsync(await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(), ("x-portkey-virtual-key", "azure-prod"),
            ("x-portkey-azure-resource-name", "attacker"), ("x-portkey-azure-deployment-id", "other"))));
        await OkAsync(await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(model: "@azure-prod/gpt-4o"))));
        await OkAsync(await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(), ("x-portkey-provider", "@azure-prod"))));
        Assert.Equal(4, sim.Requests.Count);
        Assert.All(sim.Requests, r =>
        {
            Assert.Equal("/myres/openai/deployments/gpt-4o/chat/completions", r.Path);
            Assert.Equal("?api-version=2024-10-21", r.Query);
            Assert.Equal("azure-secret-from-file", r.Headers["api-key"]);
            Assert.False(r.Headers.ContainsKey("Authorization"));
        });
        Directory.Delete(secretDir, recursive: true);
    }

    [Fact]
    public async Task Anthropic_gets_the_credential_as_x_api_key()
    {
        await using var sim = await AnthropicSimulator.StartAsync();
        sim.RequiredApiKey = "sk-ant-vk";
        await using var s = await StartAsync("""
            virtual_keys:
              - slug: claude
                provider: anthropic
                api_key: ${ANTHROPIC_KEY}
                anthropic_version: "2023-06-01"
            """, new Dictionary<string, string> { ["ANTHROPIC_KEY"] = "sk-ant-vk" },
            more: g => g with { Upstream = g.Upstream with { BaseUrls = new Dictionary<string, string> { ["anthropic"] = sim.BaseUrl.ToString() } } });
        var gw = s.Gateway;
        await OkAsync(await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(model: "claude-3-5-haiku-latest"), ("x-portkey-provider", "@claude"),
            ("x-api-key", "client-anthropic-key"))));
        await OkAsync(await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(model: "@claude/claude-3-5-haiku-latest"))));
        await OkAsync(await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(model: "claude-3-5-haiku-latest"),
            ("x-portkey-config", """{"strategy":{"mode":"single"},"targets":[{"virtual_key":"claude"}]}"""))));
        Assert.Equal(3, sim.Requests.Count);
        Assert.All(sim.Requests, r =>
        {
            Assert.Equal("sk-ant-vk", r.Headers["x-api-key"]);
            Assert.Equal("claude-3-5-haiku-latest", JsonDocument.Parse(r.Body).RootElement.GetProperty("model").GetString());
        });
    }

    [Fact]
    public async Task Bedrock_signs_with_the_keys_aws_credentials_for_its_region()
    {
        await using var sim = await BedrockSimulator.StartAsync();
        sim.AddKey("AKIDVIRTUALKEY", "bedrock-secret-from-env");
        await using var s = await StartAsync("""
            virtual_keys:
              - slug: bedrock-prod
                provider: bedrock
                aws_access_key_id: ${AWS_ID}
                aws_secret_access_key: ${AWS_SECRET}
                aws_region: eu-central-1
            """, new Dictionary<string, string> { ["AWS_ID"] = "AKIDVIRTUALKEY", ["AWS_SECRET"] = "bedrock-secret-from-env" },
            more: g => g with { Upstream = g.Upstream with { BaseUrls = new Dictionary<string, string> { ["bedrock"] = sim.BaseUrlTemplate } } },
            configs: new Dictionary<string, string> { ["bedrock.yaml"] = "virtual_key: bedrock-prod\n" });
        var gw = s.Gateway;
        const string model = "anthropic.claude-3-haiku-20240307-v1:0";
        // A client's role or session token would make the operator's credentials act for another identity: they are not used.
        await OkAsync(await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(model: model), ("x-portkey-virtual-key", "bedrock-prod"),
            ("x-portkey-aws-region", "us-east-1"), ("x-portkey-aws-role-arn", "arn:aws:iam::123456789012:role/attacker"),
            ("x-portkey-aws-session-token", "client-session-token"))));
        await OkAsync(await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(model: model), ("x-portkey-config", "bedrock"))));
        await OkAsync(await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(model: "@bedrock-prod/" + model))));
        Assert.Equal(3, sim.Requests.Count);
        Assert.Empty(sim.StsRequests);
        Assert.All(sim.Requests, r =>
        {
            Assert.False(r.Headers.ContainsKey("X-Amz-Security-Token"));
            Assert.Equal("/eu-central-1/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse", r.Path);
            Assert.StartsWith("AWS4-HMAC-SHA256 Credential=AKIDVIRTUALKEY/", r.Headers["Authorization"]);
            Assert.Contains("/eu-central-1/bedrock/aws4_request", r.Headers["Authorization"]);
            Assert.Equal(200, r.StatusCode);
        });
    }

    [Fact]
    public async Task Vertex_takes_project_and_region_from_the_key_and_sends_its_token()
    {
        await using var sim = await GoogleSimulator.StartAsync();
        sim.AcceptToken("ya29.vk-token");
        await using var s = await StartAsync("""
            virtual_keys:
              - slug: vertex-prod
                provider: vertex-ai
                api_key: ${VERTEX_TOKEN}
                vertex_project_id: proj-vk
                vertex_region: us-east5
            """, new Dictionary<string, string> { ["VERTEX_TOKEN"] = "ya29.vk-token" },
            more: g => g with { Upstream = g.Upstream with { BaseUrls = new Dictionary<string, string> { ["vertex-ai"] = sim.BaseUrl + "/vx/{region}" } } },
            configs: new Dictionary<string, string> { ["vertex.json"] = """{"virtual_key":"vertex-prod"}""" });
        var gw = s.Gateway;
        await OkAsync(await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(model: "gemini-2.5-flash"), ("x-portkey-config", "vertex"))));
        await OkAsync(await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(model: "@vertex-prod/gemini-2.5-flash"),
            ("x-portkey-vertex-project-id", "client-project"))));
        await OkAsync(await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(model: "gemini-2.5-flash"), ("x-portkey-virtual-key", "vertex-prod"))));
        var calls = sim.ModelRequests;
        Assert.Equal(3, calls.Count);
        Assert.All(calls, c =>
        {
            Assert.Equal("/vx/us-east5/v1/projects/proj-vk/locations/us-east5/publishers/google/models/gemini-2.5-flash:generateContent", c.Path);
            Assert.Equal("Bearer ya29.vk-token", c.Headers["Authorization"]);
        });
    }

    [Fact]
    public async Task Adding_changing_and_removing_a_virtual_key_applies_without_a_restart()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        var env = new Dictionary<string, string> { ["OPENAI_PROD_KEY"] = OpenAiSecret, ["SECOND_KEY"] = "sk-second" };
        await using var s = await StartAsync("virtual_keys:\n" + OpenAiKey(sim.BaseUrl), env);
        var gw = s.Gateway;

        async Task RewriteAsync(string yaml, Func<VirtualKeyStore, bool> done)
        {
            var reloaded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            void OnReload(Core.Configs.WatchedFileSnapshot<IReadOnlyList<VirtualKey>, System.Collections.Frozen.FrozenDictionary<string, VirtualKey>> _)
            {
                if (done(s.Store))
                {
                    reloaded.TrySetResult();
                }
            }
            s.Store.Reloaded += OnReload;
            try
            {
                await s.ReplaceAsync(yaml);
                // Generous: the 2 s stat poll catches a change the watcher missed on a busy machine.
                await reloaded.Task.WaitAsync(TimeSpan.FromSeconds(15));
            }
            finally
            {
                s.Store.Reloaded -= OnReload;
            }
        }

        HttpRequestMessage Chat(string slug) => TestGateway.Post("/v1/chat/completions", Requests.Chat(), ("x-portkey-virtual-key", slug));

        await RefusedAsync(await gw.SendAsync(Chat("second")), HttpStatusCode.BadRequest);
        var second = OpenAiKey(sim.BaseUrl, "second").Replace("OPENAI_PROD_KEY", "SECOND_KEY", StringComparison.Ordinal);
        await RewriteAsync("virtual_keys:\n" + OpenAiKey(sim.BaseUrl) + second, st => st.TryGet("second", out _));
        await OkAsync(await gw.SendAsync(Chat("second")));
        Assert.Equal("Bearer sk-second", sim.Requests[^1].Headers["Authorization"]);

        await RewriteAsync("virtual_keys:\n" + OpenAiKey(sim.BaseUrl) + second.Replace("SECOND_KEY", "OPENAI_PROD_KEY", StringComparison.Ordinal),
            st => st.TryGet("second", out var k) && k.ApiKey == OpenAiSecret);
        await OkAsync(await gw.SendAsync(Chat("second")));
        Assert.Equal("Bearer " + OpenAiSecret, sim.Requests[^1].Headers["Authorization"]);

        await RewriteAsync("virtual_keys:\n" + OpenAiKey(sim.BaseUrl), st => !st.TryGet("second", out _));
        await RefusedAsync(await gw.SendAsync(Chat("second")), HttpStatusCode.BadRequest);
        await OkAsync(await gw.SendAsync(Chat("openai-prod")));
    }

    [Fact]
    public async Task A_literal_credential_in_the_file_is_refused_with_its_path_and_never_shown_while_the_last_good_version_serves()
    {
        await using var sim = await OpenAiSimulator.StartAsync(new SimulatorOptions { RequiredApiKey = OpenAiSecret });
        await using var s = await StartAsync("virtual_keys:\n" + OpenAiKey(sim.BaseUrl), new Dictionary<string, string> { ["OPENAI_PROD_KEY"] = OpenAiSecret });
        var gw = s.Gateway;
        var reloaded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        s.Store.Reloaded += snapshot =>
        {
            if (snapshot.Problems.Any(p => p.Path == "$.virtual_keys[1].api_key"))
            {
                reloaded.TrySetResult();
            }
        };
        await s.ReplaceAsync("virtual_keys:\n" + OpenAiKey(sim.BaseUrl).Replace("${OPENAI_PROD_KEY}", "sk-literal-in-git", StringComparison.Ordinal)
            + "  - slug: other\n    provider: openai\n    api_key: ${NOT_SET_ANYWHERE}\n");
        await reloaded.Task.WaitAsync(TimeSpan.FromSeconds(15));
        var healthText = await gw.Client.GetStringAsync("/v1/health");
        Assert.DoesNotContain("sk-literal-in-git", healthText, StringComparison.Ordinal);
        Assert.DoesNotContain(OpenAiSecret, healthText, StringComparison.Ordinal);
        var health = JsonDocument.Parse(healthText).RootElement.GetProperty("virtual_keys");
        Assert.Equal("degraded", health.GetProperty("state").GetString());
        var problems = health.GetProperty("problems").EnumerateArray().ToList();
        Assert.Contains(problems, p => p.GetProperty("path").GetString() == "$.virtual_keys[0].api_key"
            && p.GetProperty("message").GetString()!.Contains("${NAME}", StringComparison.Ordinal) && p.GetProperty("kept_previous_version").GetBoolean());
        Assert.Contains(problems, p => p.GetProperty("path").GetString() == "$.virtual_keys[1].api_key"
            && p.GetProperty("message").GetString()!.Contains("NOT_SET_ANYWHERE is not set", StringComparison.Ordinal));
        // The file's last good version keeps serving.
        await OkAsync(await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(), ("x-portkey-virtual-key", "openai-prod"))));
        Assert.Equal("Bearer " + OpenAiSecret, sim.Requests[^1].Headers["Authorization"]);
        output.WriteLine(healthText);
    }

    [Fact]
    public async Task The_portkey_npm_sdk_virtual_key_and_provider_options_reach_the_upstream_with_the_operators_key()
    {
        await using var sim = await OpenAiSimulator.StartAsync(new SimulatorOptions { RequiredApiKey = OpenAiSecret });
        await using var s = await StartAsync("virtual_keys:\n" + OpenAiKey(sim.BaseUrl), new Dictionary<string, string> { ["OPENAI_PROD_KEY"] = OpenAiSecret });
        var (stdout, exitCode) = await NodeClients.RunAsync("virtual-key-check.mjs", new Dictionary<string, string>
        {
            ["GATEWAY_URL"] = s.Gateway.V1.ToString(),
            ["VIRTUAL_KEY"] = "openai-prod",
        }, TimeSpan.FromSeconds(120), output, "portkey-ai");
        var cases = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(3, cases.Count);
        Assert.True(exitCode == 0, stdout);
        Assert.Equal(3, sim.Requests.Count);
        Assert.All(sim.Requests, r =>
        {
            Assert.Equal("Bearer " + OpenAiSecret, r.Headers["Authorization"]);
            Assert.Equal("gpt-4o-mini", JsonDocument.Parse(r.Body).RootElement.GetProperty("model").GetString());
        });
    }

    [Fact]
    public async Task A_virtual_keys_rate_limit_and_budget_are_enforced_with_portkey_bodies_and_listed_for_the_admin_api()
    {
        await using var sim = await OpenAiSimulator.StartAsync(new SimulatorOptions { RequiredApiKey = OpenAiSecret });
        var yaml = "virtual_keys:\n"
            + OpenAiKey(sim.BaseUrl, "limited", "    rate_limits: [{requests: 2, per: minute}]") + "\n"
            + OpenAiKey(sim.BaseUrl, "tiny-budget", "    budgets: [{tokens: 5, period: total}]");
        await using var s = await StartAsync(yaml, new Dictionary<string, string> { ["OPENAI_PROD_KEY"] = OpenAiSecret });
        HttpRequestMessage Chat(string slug) => TestGateway.Post("/v1/chat/completions", Requests.Chat(), [("x-portkey-virtual-key", slug)]);

        await OkAsync(await s.Gateway.SendAsync(Chat("limited")));
        await OkAsync(await s.Gateway.SendAsync(Chat("limited")));
        var refused = await s.Gateway.SendAsync(Chat("limited"));
        await RefusedAsync(refused, HttpStatusCode.TooManyRequests, "05");
        Assert.NotNull(refused.Headers.RetryAfter);

        // A budget smaller than any reservation: refused before the provider is called, in Portkey's virtual-key body.
        var exhausted = await s.Gateway.SendAsync(Chat("tiny-budget"));
        var text = await exhausted.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.PreconditionFailed, exhausted.StatusCode);
        var error = JsonDocument.Parse(text).RootElement.GetProperty("error");
        Assert.Equal("virtual_key_exhaust_error", error.GetProperty("type").GetString());
        Assert.Equal("04", error.GetProperty("code").GetString());
        Assert.DoesNotContain(OpenAiSecret, text, StringComparison.Ordinal);
        Assert.Equal(2, sim.Requests.Count);

        var subjects = s.Gateway.Engine.Limits!.Subjects;
        Assert.Contains(new Core.Limits.LimitSubject(Core.Limits.LimitSubjectKind.VirtualKey, "limited"), subjects);
        Assert.Contains(new Core.Limits.LimitSubject(Core.Limits.LimitSubjectKind.VirtualKey, "tiny-budget"), subjects);
    }
}
