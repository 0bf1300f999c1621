using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text;
using System.Text.Json;
using OpenAI;
using OpenAI.Chat;
using Switchyard.Core;
using Switchyard.Simulators;
using Switchyard.Tests.Infrastructure;
using Xunit;

namespace Switchyard.Tests.Pipeline;

/// <summary>The engine in-process: the official OpenAI .NET SDK talks to <see cref="SwitchyardHandler"/>, with no gateway server at all.</summary>
public sealed class SwitchyardHandlerTests
{
    private static (SwitchyardEngine Engine, string LogDir) Engine(string configDir)
    {
        var logDir = Path.Combine(Path.GetTempPath(), "switchyard-handler-logs-" + Guid.NewGuid().ToString("N"));
        var settings = TestGateway.FastSettings(configDir);
        settings = settings with { Logs = settings.Logs with { Directory = logDir } };
        var engine = new SwitchyardEngine(settings, new SwitchyardEngineOptions { Environment = _ => null });
        engine.Start();
        return (engine, logDir);
    }

    private static OpenAIClient Sdk(HttpClient http, params (string, string)[] headers)
    {
        var options = new OpenAIClientOptions
        {
            // The host is never contacted: the handler serves /v1/* itself.
            Endpoint = new Uri("http://switchyard.invalid/v1"),
            Transport = new HttpClientPipelineTransport(http),
            RetryPolicy = new ClientRetryPolicy(0),
        };
        options.AddPolicy(new GatewayHeaderPolicy(headers), PipelinePosition.PerCall);
        return new OpenAIClient(new ApiKeyCredential(Requests.Key), options);
    }

    [Fact]
    public async Task The_openai_sdk_chats_and_streams_through_the_handler_and_each_request_is_logged()
    {
        await using var sim = await OpenAiSimulator.StartAsync(new SimulatorOptions { RequiredApiKey = Requests.Key });
        var configDir = Directory.CreateTempSubdirectory("switchyard-handler-").FullName;
        var (engine, logDir) = Engine(configDir);
        try
        {
            using var http = new HttpClient(new SwitchyardHandler(engine));
            var chat = Sdk(http, ("x-portkey-provider", "openai"), ("x-portkey-custom-host", sim.BaseUrl.ToString())).GetChatClient("gpt-4o-mini");

            ChatCompletion completion = await chat.CompleteChatAsync([new UserChatMessage("in process")]);
            Assert.Equal("echo: in process", completion.Content[0].Text);

            var text = new StringBuilder();
            ChatTokenUsage? usage = null;
            await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("streamed in process")]))
            {
                foreach (var part in update.ContentUpdate)
                {
                    text.Append(part.Text);
                }
                usage ??= update.Usage;
            }
            Assert.Equal("echo: streamed in process", text.ToString());
            // The SDK asks for usage on streams itself.
            Assert.NotNull(usage);
            Assert.Equal(2, sim.Requests.Count);
        }
        finally
        {
            await engine.DisposeAsync();
        }
        // Both requests are logged, with usage, by the same pipeline the server runs.
        var lines = Directory.GetFiles(logDir, "*.jsonl").SelectMany(File.ReadAllLines).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.True(lines.Count == 2, string.Join("\n", lines.Select(l => l.GetRawText())));
        Assert.All(lines, l =>
        {
            Assert.Equal(200, l.GetProperty("status").GetInt32());
            Assert.Equal("openai", l.GetProperty("provider").GetString());
            Assert.True(l.GetProperty("usage").GetProperty("total_tokens").GetInt64() > 0);
            Assert.Equal("response", l.GetProperty("attempts")[0].GetProperty("outcome").GetString());
        });
        Assert.True(lines[1].GetProperty("stream").GetBoolean());
        Directory.Delete(logDir, recursive: true);
    }

    [Fact]
    public async Task Portkey_headers_and_gateway_errors_come_back_through_the_handler()
    {
        await using var sim = await OpenAiSimulator.StartAsync();
        var configDir = Directory.CreateTempSubdirectory("switchyard-handler-").FullName;
        var (engine, logDir) = Engine(configDir);
        using var http = new HttpClient(new SwitchyardHandler(engine, disposeEngine: true)) { BaseAddress = new Uri("http://switchyard.invalid") };

        var ok = await http.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(), Requests.HeaderMode(sim.BaseUrl)));
        Assert.Equal(System.Net.HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal("openai", ok.Header("x-portkey-provider"));
        Assert.Equal("config", ok.Header("x-portkey-last-used-option-index"));
        Assert.Equal("0", ok.Header("x-portkey-retry-attempt-count"));
        Assert.Equal("DISABLED", ok.Header("x-portkey-cache-status"));
        Assert.NotEmpty(ok.Header("x-portkey-trace-id"));

        var missing = await http.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat()));
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, missing.StatusCode);
        Assert.Equal("failure", (await missing.JsonAsync()).GetProperty("status").GetString());

        var notFound = await http.GetAsync("/elsewhere");
        Assert.Equal(System.Net.HttpStatusCode.NotFound, notFound.StatusCode);
        http.Dispose();
        // Disposing the handler disposed the engine, which wrote every record before returning.
        Assert.Equal(3, Directory.GetFiles(logDir, "*.jsonl").SelectMany(File.ReadAllLines).Count());
        Directory.Delete(logDir, recursive: true);
    }
}
