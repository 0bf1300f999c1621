using System.Net;
using System.Text.Json;
using Switchyard.Simulators;
using Switchyard.Tests.Infrastructure;
using Xunit;

namespace Switchyard.Tests.Configs;

/// <summary>Named configs from CONFIG_DIR: JSON and YAML, credential references, hot reload, and a broken edit that keeps the last good version.</summary>
public sealed class NamedConfigTests
{
    private static async Task WaitForAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new Xunit.Sdk.XunitException($"timed out waiting for {what}");
            }
            await Task.Delay(25);
        }
    }

    [Fact]
    public async Task Yaml_and_json_configs_load_and_credentials_come_from_the_environment()
    {
        await using var sim = await OpenAiSimulator.StartAsync(new SimulatorOptions { RequiredApiKey = "sk-from-env" });
        var yaml = $"""
            # comments are fine in YAML
            provider: openai
            api_key: ${"{"}TEAM_KEY{"}"}
            custom_host: "{sim.BaseUrl}"
            override_params:
              temperature: 0.3
            """;
        await using var gw = await TestGateway.StartAsync(
            new Dictionary<string, string> { ["team.yaml"] = yaml },
            environment: new Dictionary<string, string> { ["TEAM_KEY"] = "sk-from-env" });
        var response = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(), ("x-portkey-config", "team")));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Bearer sk-from-env", sim.Requests[0].Headers["Authorization"]);
        Assert.Equal(0.3, JsonDocument.Parse(sim.Requests[0].Body).RootElement.GetProperty("temperature").GetDouble());
    }

    [Fact]
    public async Task Inline_configs_never_resolve_environment_references()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync(environment: new Dictionary<string, string> { ["SECRET"] = "do-not-leak" });
        var config = "{\"provider\":\"openai\",\"api_key\":\"${SECRET}\",\"custom_host\":\"" + sim.BaseUrl + "\"}";
        await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(), ("x-portkey-config", config)));
        Assert.Equal("Bearer ${SECRET}", sim.Requests[0].Headers["Authorization"]);
    }

    [Fact]
    public async Task A_target_without_api_key_uses_the_clients_key()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync(new Dictionary<string, string>
        {
            ["shared.json"] = $"{{\"provider\":\"openai\",\"custom_host\":\"{sim.BaseUrl}\"}}",
        });
        var response = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(), ("x-portkey-config", "shared"), ("Authorization", "Bearer sk-client")));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("Bearer sk-client", sim.Requests[0].Headers["Authorization"]);
    }

    [Fact]
    public async Task An_edited_file_is_picked_up_without_restart_and_a_broken_edit_keeps_the_old_version_and_is_reported()
    {
        await using var a = await OpenAiSimulator.StartAsync(new SimulatorOptions { Name = "a" });
        await using var b = await OpenAiSimulator.StartAsync(new SimulatorOptions { Name = "b" });
        await using var gw = await TestGateway.StartAsync(new Dictionary<string, string> { ["live.json"] = Requests.Target(a.BaseUrl) });
        var file = Path.Combine(gw.ConfigDirectory, "live.json");
        async Task<string> Served()
        {
            var r = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(), ("x-portkey-config", "live")));
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            return r.Header("x-simulator-name");
        }
        Assert.Equal("a", await Served());

        var generation = gw.Engine.NamedConfigs.Current.Generation;
        await File.WriteAllTextAsync(file, Requests.Target(b.BaseUrl));
        await WaitForAsync(() => gw.Engine.NamedConfigs.Current.Generation > generation, "the edit to be loaded");
        Assert.Equal("b", await Served());

        generation = gw.Engine.NamedConfigs.Current.Generation;
        await File.WriteAllTextAsync(file, "{\"strategy\":{\"mode\":\"fallback\"},\"targets\":[{\"provider\":\"openai\",\"retry\":{\"attempts\":-2}}]}");
        await WaitForAsync(() => gw.Engine.NamedConfigs.Current.Generation > generation, "the broken edit to be read");
        Assert.Equal("b", await Served());

        var health = await (await gw.Client.GetAsync("/v1/health")).JsonAsync();
        var store = health.GetProperty("config_store");
        Assert.Equal("degraded", store.GetProperty("state").GetString());
        var problem = store.GetProperty("problems")[0];
        Assert.Equal("live.json", problem.GetProperty("file").GetString());
        Assert.Equal("targets[0].retry.attempts", problem.GetProperty("path").GetString());
        Assert.True(problem.GetProperty("kept_previous_version").GetBoolean());

        // Fixing the file clears the report.
        generation = gw.Engine.NamedConfigs.Current.Generation;
        await File.WriteAllTextAsync(file, Requests.Target(a.BaseUrl));
        await WaitForAsync(() => gw.Engine.NamedConfigs.Current.Generation > generation, "the fix to be loaded");
        Assert.Equal("a", await Served());
        Assert.Equal("ok", gw.Engine.NamedConfigs.Current.State);
    }

    [Fact]
    public async Task A_new_file_appears_and_a_deleted_one_disappears()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        var generation = gw.Engine.NamedConfigs.Current.Generation;
        var file = Path.Combine(gw.ConfigDirectory, "fresh.yaml");
        await File.WriteAllTextAsync(file, $"provider: openai\napi_key: k\ncustom_host: \"{sim.BaseUrl}\"\n");
        await WaitForAsync(() => gw.Engine.NamedConfigs.TryGet("fresh", out _), "the new file");
        Assert.Equal(HttpStatusCode.OK, (await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(), ("x-portkey-config", "fresh")))).StatusCode);
        File.Delete(file);
        await WaitForAsync(() => !gw.Engine.NamedConfigs.TryGet("fresh", out _), "the deletion");
        Assert.True(gw.Engine.NamedConfigs.Current.Generation > generation);
    }

    [Fact]
    public async Task A_file_broken_from_the_start_is_reported_and_not_served()
    {
        await using var gw = await TestGateway.StartAsync(new Dictionary<string, string>
        {
            ["bad.yaml"] = "strategy:\n  mode: fallback\ntargets: [ {provider: openai",
        });
        var health = await (await gw.Client.GetAsync("/v1/health")).JsonAsync();
        var problem = health.GetProperty("config_store").GetProperty("problems")[0];
        Assert.Equal("bad.yaml", problem.GetProperty("file").GetString());
        Assert.Contains("invalid YAML", problem.GetProperty("message").GetString());
        Assert.False(problem.GetProperty("kept_previous_version").GetBoolean());
        var response = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(), ("x-portkey-config", "bad")));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }
}
