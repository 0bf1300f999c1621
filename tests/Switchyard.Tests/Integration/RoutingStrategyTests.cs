using System.Net;
using System.Text.Json;
using Switchyard.Simulators;
using Switchyard.Tests.Infrastructure;
using Xunit;

namespace Switchyard.Tests.Integration;

/// <summary>Fallback, loadbalance, single, conditional and override_params against real simulators.</summary>
public sealed class RoutingStrategyTests
{
    [Fact]
    public async Task Fallback_moves_on_only_for_the_listed_status_codes()
    {
        await using var first = await OpenAiSimulator.StartAsync(new SimulatorOptions { Name = "first" });
        await using var second = await OpenAiSimulator.StartAsync(new SimulatorOptions { Name = "second" });
        await using var gw = await TestGateway.StartAsync();
        var config = $"{{\"strategy\":{{\"mode\":\"fallback\",\"on_status_codes\":[429,503]}},\"targets\":[{Requests.Target(first.BaseUrl)},{Requests.Target(second.BaseUrl)}]}}";

        first.FailNext(1, 429);
        var listed = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(), Requests.Config(config)));
        Assert.Equal(HttpStatusCode.OK, listed.StatusCode);
        Assert.Equal("second", listed.Header("x-simulator-name"));
        Assert.Equal("config.targets[1]", listed.Header("x-portkey-last-used-option-index"));

        first.FailNext(1, 500);
        var unlisted = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(), Requests.Config(config)));
        Assert.Equal(HttpStatusCode.InternalServerError, unlisted.StatusCode);
        Assert.Equal("config.targets[0]", unlisted.Header("x-portkey-last-used-option-index"));
        Assert.Single(second.Requests);
    }

    [Fact]
    public async Task Fallback_without_status_list_moves_on_after_any_failure_including_timeouts_and_unreachable_hosts()
    {
        await using var slow = await OpenAiSimulator.StartAsync();
        await using var good = await OpenAiSimulator.StartAsync(new SimulatorOptions { Name = "good" });
        await using var gw = await TestGateway.StartAsync();
        slow.Enqueue(SimulatedFault.Hang());
        var config = $"{{\"strategy\":{{\"mode\":\"fallback\"}},\"targets\":[" +
                     $"{{\"provider\":\"openai\",\"api_key\":\"k\",\"custom_host\":\"http://127.0.0.1:1/v1\"}}," +
                     $"{Requests.Target(slow.BaseUrl, extra: "\"request_timeout\":200")},{Requests.Target(good.BaseUrl)}]}}";
        var response = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(), Requests.Config(config)));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("config.targets[2]", response.Header("x-portkey-last-used-option-index"));
    }

    [Fact]
    public async Task Last_fallback_response_is_returned_whatever_it_is()
    {
        await using var a = await OpenAiSimulator.StartAsync();
        await using var b = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        a.FailNext(1, 503);
        b.FailNext(1, 502);
        var config = $"{{\"strategy\":{{\"mode\":\"fallback\"}},\"targets\":[{Requests.Target(a.BaseUrl)},{Requests.Target(b.BaseUrl)}]}}";
        var response = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(), Requests.Config(config)));
        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("config.targets[1]", response.Header("x-portkey-last-used-option-index"));
    }

    [Fact]
    public async Task Loadbalance_honours_weights_statistically_and_never_picks_weight_zero()
    {
        await using var heavy = await OpenAiSimulator.StartAsync();
        await using var light = await OpenAiSimulator.StartAsync();
        await using var never = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        var config = $"{{\"strategy\":{{\"mode\":\"loadbalance\"}},\"targets\":[" +
                     $"{Requests.Target(heavy.BaseUrl, extra: "\"weight\":0.75")},{Requests.Target(never.BaseUrl, extra: "\"weight\":0")},{Requests.Target(light.BaseUrl, extra: "\"weight\":0.25")}]}}";
        const int n = 400;
        var tasks = Enumerable.Range(0, n).Select(_ => gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(), Requests.Config(config))));
        var responses = await Task.WhenAll(tasks);
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Empty(never.Requests);
        // Binomial(400, 0.75): mean 300, sd ≈ 8.7. ±5 sd keeps a false failure below one in a million.
        Assert.InRange(heavy.Requests.Count, 300 - 44, 300 + 44);
        Assert.Equal(n, heavy.Requests.Count + light.Requests.Count);
    }

    [Fact]
    public async Task Conditional_routes_on_metadata_and_nested_params_with_a_default()
    {
        await using var premium = await OpenAiSimulator.StartAsync(new SimulatorOptions { Name = "premium" });
        await using var json = await OpenAiSimulator.StartAsync(new SimulatorOptions { Name = "json" });
        await using var cheap = await OpenAiSimulator.StartAsync(new SimulatorOptions { Name = "cheap" });
        await using var gw = await TestGateway.StartAsync();
        var config = $$$"""
        {"strategy":{"mode":"conditional","conditions":[
            {"query":{"metadata.account.plan":{"$eq":"paid"},"metadata.region":{"$in":["eu","us"]}},"then":"premium"},
            {"query":{"$or":[{"params.response_format.type":"json_object"},{"params.messages.0.role":{"$eq":"system"}}]},"then":"json"}],
          "default":"cheap"},
         "targets":[
            {"name":"premium","provider":"openai","api_key":"k","custom_host":"{{{premium.BaseUrl}}}"},
            {"name":"json","provider":"openai","api_key":"k","custom_host":"{{{json.BaseUrl}}}"},
            {"name":"cheap","provider":"openai","api_key":"k","custom_host":"{{{cheap.BaseUrl}}}"}]}
        """.ReplaceLineEndings("");
        async Task<string> Route(string body, string? metadata)
        {
            var headers = new List<(string, string)> { ("x-portkey-config", config) };
            if (metadata is not null)
            {
                headers.Add(("x-portkey-metadata", metadata));
            }
            var r = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", body, [.. headers]));
            Assert.True(r.StatusCode == HttpStatusCode.OK, await r.Content.ReadAsStringAsync());
            return r.Header("x-simulator-name");
        }

        Assert.Equal("premium", await Route(Requests.Chat(), "{\"account\":{\"plan\":\"paid\"},\"region\":\"eu\"}"));
        Assert.Equal("cheap", await Route(Requests.Chat(), "{\"account\":{\"plan\":\"paid\"},\"region\":\"apac\"}"));
        Assert.Equal("json", await Route("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"response_format\":{\"type\":\"json_object\"}}", null));
        Assert.Equal("json", await Route("{\"model\":\"m\",\"messages\":[{\"role\":\"system\",\"content\":\"s\"},{\"role\":\"user\",\"content\":\"x\"}]}", null));
        Assert.Equal("cheap", await Route(Requests.Chat(), null));
    }

    [Fact]
    public async Task Conditional_without_match_or_default_is_a_400_in_portkey_shape()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        var config = $"{{\"strategy\":{{\"mode\":\"conditional\",\"conditions\":[{{\"query\":{{\"metadata.tier\":\"gold\"}},\"then\":\"a\"}}]}},\"targets\":[{Requests.Target(sim.BaseUrl, extra: "\"name\":\"a\"")}]}}";
        var response = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(), Requests.Config(config)));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = await response.JsonAsync();
        Assert.Equal("failure", body.GetProperty("status").GetString());
        Assert.Equal("Query router did not resolve to any valid target", body.GetProperty("message").GetString());
        Assert.Empty(sim.Requests);
    }

    [Fact]
    public async Task Override_params_are_merged_over_the_body_and_inherited_down_the_tree()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var gw = await TestGateway.StartAsync();
        var config = $"{{\"override_params\":{{\"temperature\":0.1,\"max_tokens\":64}},\"strategy\":{{\"mode\":\"single\"}},\"targets\":[{Requests.Target(sim.BaseUrl, extra: "\"override_params\":{\"model\":\"gpt-4.1-mini\",\"temperature\":0.2}")}]}}";
        var response = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(model: "gpt-4o"), Requests.Config(config)));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("config.targets[0]", response.Header("x-portkey-last-used-option-index"));
        var sent = JsonDocument.Parse(sim.Requests[^1].Body).RootElement;
        Assert.Equal("gpt-4.1-mini", sent.GetProperty("model").GetString());
        Assert.Equal(0.2, sent.GetProperty("temperature").GetDouble());
        Assert.Equal(64, sent.GetProperty("max_tokens").GetInt32());
        Assert.Equal("hello there", sent.GetProperty("messages")[0].GetProperty("content").GetString());
        Assert.Equal("gpt-4.1-mini", (await response.JsonAsync()).GetProperty("model").GetString());
    }

    [Fact]
    public async Task Nested_strategies_report_the_full_option_path()
    {
        await using var a = await OpenAiSimulator.StartAsync();
        await using var b = await OpenAiSimulator.StartAsync(new SimulatorOptions { Name = "b" });
        await using var gw = await TestGateway.StartAsync();
        a.FailNext(1, 503);
        var config = $"{{\"strategy\":{{\"mode\":\"fallback\"}},\"targets\":[{{\"strategy\":{{\"mode\":\"single\"}},\"targets\":[{Requests.Target(a.BaseUrl)}]}},{{\"strategy\":{{\"mode\":\"loadbalance\"}},\"targets\":[{Requests.Target(b.BaseUrl)}]}}]}}";
        var response = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(), Requests.Config(config)));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("config.targets[1].targets[0]", response.Header("x-portkey-last-used-option-index"));
    }
}
