using System.Net;
using System.Text.Json;
using Switchyard.Core.Providers.Azure;
using Switchyard.Simulators.Azure;
using Switchyard.Tests.Infrastructure;
using Xunit;

namespace Switchyard.Tests.Providers.Azure;

/// <summary>Azure OpenAI through the real gateway and the Azure simulator.</summary>
public sealed class AzureOpenAiTests
{
    private static Task<TestGateway> Gateway(AzureOpenAiSimulator sim, IReadOnlyDictionary<string, string>? env = null, IReadOnlyDictionary<string, string>? configs = null) =>
        TestGateway.StartAsync(configs, s => s with { Upstream = s.Upstream with { BaseUrls = new Dictionary<string, string> { ["azure-openai"] = sim.BaseTemplate } } }, env);

    private static string Config(string deployment = "gpt-4o", string apiVersion = "2024-10-21", string extra = "\"api_key\":\"azure-key\"") =>
        $"{{\"provider\":\"azure-openai\",\"resource_name\":\"myres\",\"deployment_id\":\"{deployment}\",\"api_version\":\"{apiVersion}\",{extra}}}";

    [Fact]
    public async Task Chat_goes_to_the_deployment_url_with_api_key_and_answers_with_the_deployments_model()
    {
        await using var sim = await AzureOpenAiSimulator.StartAsync();
        await using var gw = await Gateway(sim);
        var body = "{\"model\":\"anything\",\"messages\":[{\"role\":\"system\",\"content\":\"be brief\"},{\"role\":\"user\",\"content\":\"hi there\"}]}";
        var r = await gw.SendAsync(TestGateway.Post("/v1/chat/completions?foo=bar", body, ("x-portkey-config", Config())));
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        var json = await r.JsonAsync();
        Assert.Equal("gpt-4o-2024-11-20", json.GetProperty("model").GetString());
        Assert.Equal("echo: hi there", json.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
        Assert.Equal(4, json.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        Assert.False(json.GetProperty("choices")[0].GetProperty("content_filter_results").GetProperty("hate").GetProperty("filtered").GetBoolean());
        var seen = Assert.Single(sim.Requests);
        Assert.Equal("/myres/openai/deployments/gpt-4o/chat/completions", seen.Path);
        Assert.Equal("?api-version=2024-10-21&foo=bar", seen.Query);
        Assert.Equal("azure-key", seen.Headers["api-key"]);
        Assert.False(seen.Headers.ContainsKey("Authorization"));
        Assert.Equal(body, seen.Body);
    }

    [Fact]
    public async Task Header_mode_fields_and_bearer_key_become_api_key()
    {
        await using var sim = await AzureOpenAiSimulator.StartAsync();
        await using var gw = await Gateway(sim);
        var r = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(), ("x-portkey-provider", "azure-openai"),
            ("Authorization", "Bearer azure-key"), ("x-portkey-azure-resource-name", "res2"), ("x-portkey-azure-deployment-id", "gpt-4o-mini"),
            ("x-portkey-azure-api-version", "2024-12-01-preview")));
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        var seen = Assert.Single(sim.Requests);
        Assert.Equal("/res2/openai/deployments/gpt-4o-mini/chat/completions", seen.Path);
        Assert.Equal("?api-version=2024-12-01-preview", seen.Query);
        Assert.Equal("azure-key", seen.Headers["api-key"]);
    }

    [Fact]
    public async Task V1_form_sends_the_deployment_as_model_without_api_version()
    {
        await using var sim = await AzureOpenAiSimulator.StartAsync();
        await using var gw = await Gateway(sim);
        var r = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(model: "client"), ("x-portkey-config", Config("gpt-4.1", "v1"))));
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal("gpt-4.1-2025-04-14", (await r.JsonAsync()).GetProperty("model").GetString());
        var seen = Assert.Single(sim.Requests);
        Assert.Equal("/myres/openai/v1/chat/completions", seen.Path);
        Assert.Equal("", seen.Query);
        Assert.Equal("gpt-4.1", seen.Json.GetProperty("model").GetString());
    }

    [Fact]
    public async Task Azure_ad_token_is_sent_as_bearer_instead_of_api_key()
    {
        await using var sim = await AzureOpenAiSimulator.StartAsync();
        sim.AcceptedTokens["entra-token-1"] = true;
        await using var gw = await Gateway(sim);
        var r = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(), ("x-portkey-config", Config(extra: "\"azure_ad_token\":\"entra-token-1\""))));
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        var seen = Assert.Single(sim.Requests);
        Assert.Equal("Bearer entra-token-1", seen.Headers["Authorization"]);
        Assert.False(seen.Headers.ContainsKey("api-key"));
    }

    [Fact]
    public async Task Wrong_key_unknown_deployment_and_content_filter_keep_status_and_azure_error()
    {
        await using var sim = await AzureOpenAiSimulator.StartAsync();
        await using var gw = await Gateway(sim);
        var bad = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(), ("x-portkey-config", Config(extra: "\"api_key\":\"wrong\""))));
        Assert.Equal(HttpStatusCode.Unauthorized, bad.StatusCode);
        Assert.Equal("401", (await bad.JsonAsync()).GetProperty("error").GetProperty("code").GetString());

        var missing = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(), ("x-portkey-config", Config("nope"))));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("DeploymentNotFound", (await missing.JsonAsync()).GetProperty("error").GetProperty("code").GetString());

        sim.FailNext(400, """{"error":{"message":"The response was filtered due to the prompt triggering Azure OpenAI's content management policy.","type":null,"param":"prompt","code":"content_filter","status":400,"innererror":{"code":"ResponsibleAIPolicyViolation","content_filter_result":{"hate":{"filtered":true,"severity":"high"}}}}}""");
        var filtered = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(), ("x-portkey-config", Config())));
        Assert.Equal(HttpStatusCode.BadRequest, filtered.StatusCode);
        var error = (await filtered.JsonAsync()).GetProperty("error");
        Assert.Equal("content_filter", error.GetProperty("code").GetString());
        Assert.Equal("ResponsibleAIPolicyViolation", error.GetProperty("innererror").GetProperty("code").GetString());
    }

    [Fact]
    public async Task Streamed_usage_matches_non_streamed_and_is_hidden_unless_asked()
    {
        await using var sim = await AzureOpenAiSimulator.StartAsync();
        await using var gw = await Gateway(sim);
        var plain = await (await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat("one two three"), ("x-portkey-config", Config())))).JsonAsync();
        var withUsage = await (await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat("one two three", stream: true, includeUsage: true), ("x-portkey-config", Config())))).Content.ReadAsStringAsync();
        var without = await (await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat("one two three", stream: true), ("x-portkey-config", Config())))).Content.ReadAsStringAsync();
        var chunks = withUsage.Split("\n\n").Where(e => e.StartsWith("data: {")).Select(e => JsonDocument.Parse(e[6..]).RootElement).ToList();
        var usage = chunks.Last().GetProperty("usage");
        Assert.Equal(plain.GetProperty("usage").GetProperty("prompt_tokens").GetInt32(), usage.GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(plain.GetProperty("usage").GetProperty("completion_tokens").GetInt32(), usage.GetProperty("completion_tokens").GetInt32());
        Assert.DoesNotContain("\"usage\":{", without);
        // The gateway asked upstream for usage on both streams.
        Assert.All(sim.Requests.Skip(1), req => Assert.True(req.Json.GetProperty("stream_options").GetProperty("include_usage").GetBoolean()));
        Assert.True(without.Contains("[DONE]"), without);
        Assert.Contains("\"content\":\"echo: \"", without);
    }

    [Fact]
    public async Task Simulator_behaves_like_azure_for_api_versions()
    {
        await using var sim = await AzureOpenAiSimulator.StartAsync();
        using var http = new HttpClient();
        async Task<(HttpStatusCode, string?)> Call(string query)
        {
            var req = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{sim.Port}/r/openai/deployments/gpt-4o/chat/completions{query}")
            { Content = new StringContent(Requests.Chat()) };
            req.Headers.Add("api-key", "azure-key");
            var r = await http.SendAsync(req);
            return (r.StatusCode, (await r.JsonAsync()).GetProperty("error").GetProperty("code").GetString());
        }
        Assert.Equal((HttpStatusCode.NotFound, "404"), await Call(""));
        Assert.Equal((HttpStatusCode.BadRequest, "BadRequest"), await Call("?api-version=1999-01-01"));
    }

    [Fact]
    public async Task Azure_models_config_balances_over_all_eight_deployments()
    {
        await using var sim = await AzureOpenAiSimulator.StartAsync("azure-config-key");
        var text = await File.ReadAllTextAsync(Path.Combine(RepoPaths.Root, "configs", "azure-models.json"));
        await using var gw = await Gateway(sim, new Dictionary<string, string> { ["AZURE_OPENAI_API_KEY"] = "azure-config-key", ["AZURE_OPENAI_RESOURCE_NAME"] = "contoso" },
            new Dictionary<string, string> { ["azure-models.json"] = text });
        for (var i = 0; i < 200; i++)
        {
            var r = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(), ("x-portkey-config", "azure-models")));
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        }
        var deployments = sim.Requests.Select(r => r.Path.Split('/')[4]).ToHashSet();
        Assert.Equal(new HashSet<string> { "gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano", "o3-mini", "o4-mini", "gpt-5-mini" }, deployments);
        Assert.All(sim.Requests, r => Assert.StartsWith("/contoso/openai/deployments/", r.Path));
    }

    [Fact]
    public async Task Cost_optimized_config_routes_small_and_large_requests_to_the_two_deployments()
    {
        await using var sim = await AzureOpenAiSimulator.StartAsync("k2");
        var text = await File.ReadAllTextAsync(Path.Combine(RepoPaths.Root, "configs", "cost-optimized.yaml"));
        await using var gw = await Gateway(sim, new Dictionary<string, string> { ["AZURE_OPENAI_API_KEY"] = "k2", ["AZURE_OPENAI_RESOURCE_NAME"] = "contoso" },
            new Dictionary<string, string> { ["cost-optimized.yaml"] = text });
        Assert.Equal(HttpStatusCode.OK, (await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat("short"), ("x-portkey-config", "cost-optimized")))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(string.Join(' ', Enumerable.Repeat("context", 4500))), ("x-portkey-config", "cost-optimized")))).StatusCode);
        Assert.Equal(["/contoso/openai/deployments/gpt-4o-mini/chat/completions", "/contoso/openai/deployments/gpt-4o/chat/completions"], sim.Requests.Select(r => r.Path).ToArray());
    }

    [Fact]
    public void Other_query_parameters_are_kept_and_api_version_is_not_duplicated()
    {
        Assert.Equal("&a=1&b=2", AzureOpenAiAdapter.OtherParameters("?a=1&api-version=x&b=2"));
        Assert.Equal("", AzureOpenAiAdapter.OtherParameters(""));
    }
}
