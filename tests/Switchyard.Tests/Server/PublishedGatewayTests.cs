using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Switchyard.Simulators;
using Switchyard.Tests.Infrastructure;
using Switchyard.Tests.Observability;
using Switchyard.Tests.Redis;
using Xunit;
using Xunit.Abstractions;

namespace Switchyard.Tests.Server;

/// <summary>
/// The shipped build (self-contained, trimmed: <see cref="PublishedGateway"/>, published as the Dockerfile does) in
/// its own process. It can behave differently from the JIT build the other tests run: a lock held across a connect attempt
/// hung it when Redis went away, and only this build showed it.
/// </summary>
[Collection(PublishedGateway.Collection)]
public sealed class PublishedGatewayTests(ITestOutputHelper output)
{
    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Waits until the process answers <c>/v1/health</c> (up to 30 s).</summary>
    private static async Task WaitForHealthAsync(HttpClient http)
    {
        for (var i = 0; i < 120; i++)
        {
            try
            {
                await http.GetAsync("/v1/health");
                return;
            }
            catch (HttpRequestException)
            {
                await Task.Delay(250);
            }
        }
    }

    [Fact]
    public async Task The_shipped_build_serves_through_a_redis_outage_resumes_caching_and_stops_on_sigterm()
    {
        var executable = await PublishedGateway.ExecutableAsync();
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var redis = await RedisServer.StartAsync();
        var port = FreePort();
        var start = new ProcessStartInfo(executable) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = RepoPaths.Root };
        start.Environment["PORT"] = port.ToString(CultureInfo.InvariantCulture);
        start.Environment["BIND_ADDRESS"] = "127.0.0.1";
        start.Environment["REDIS_URL"] = $"redis://127.0.0.1:{redis.Port}";
        start.Environment["LOG_STORE"] = "none";
        using var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            // Every request must be answered well within this: a hung cache operation would exceed it.
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(5) };
            await WaitForHealthAsync(http);
            var config = $"{{\"cache\":{{\"mode\":\"simple\"}},\"provider\":\"openai\",\"api_key\":\"sk-p\",\"custom_host\":\"{sim.BaseUrl}\"}}";
            async Task<string> Ask(string text)
            {
                var response = await http.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat(text), ("x-portkey-config", config)));
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                return response.Header("x-portkey-cache-status");
            }

            Assert.Equal("MISS", await Ask("before"));
            Assert.Equal("HIT", await Ask("before"));
            await redis.StopAsync();
            for (var i = 0; i < 6; i++)
            {
                Assert.Equal("MISS", await Ask("during " + (i % 2)));
            }
            await redis.RestartAsync();
            var status = "";
            for (var i = 0; i < 50 && status != "HIT"; i++)
            {
                await Task.Delay(200);
                await Ask("after");
                status = await Ask("after");
            }
            Assert.Equal("HIT", status);

            Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)])!.WaitForExit();
            using var exit = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            await process.WaitForExitAsync(exit.Token);
            Assert.Equal(0, process.ExitCode);

            // Never reachable at all: requests are served and SIGTERM still stops the process.
            start.Environment["REDIS_URL"] = $"redis://127.0.0.1:{FreePort()}";
            using var unreachable = Process.Start(start)!;
            unreachable.OutputDataReceived += (_, _) => { };
            unreachable.BeginOutputReadLine();
            try
            {
                await WaitForHealthAsync(http);
                Assert.Equal("MISS", await Ask("unreachable"));
                Assert.Equal("MISS", await Ask("unreachable"));
                Process.Start("kill", ["-TERM", unreachable.Id.ToString(CultureInfo.InvariantCulture)])!.WaitForExit();
                using var exit2 = new CancellationTokenSource(TimeSpan.FromSeconds(15));
                await unreachable.WaitForExitAsync(exit2.Token);
            }
            finally
            {
                if (!unreachable.HasExited)
                {
                    unreachable.Kill(entireProcessTree: true);
                }
            }
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }

    [Fact]
    public async Task The_shipped_build_serves_metrics_on_its_metrics_port_and_exports_spans()
    {
        // Trimming removes what nothing seems to use: the OpenTelemetry SDK, its exporters and the runtime metrics must survive it.
        var executable = await PublishedGateway.ExecutableAsync();
        await using var sim = await OpenAiSimulator.StartAsync();
        await using var receiver = await OtlpTraceReceiver.StartAsync();
        var port = FreePort();
        var metricsPort = FreePort();
        var start = new ProcessStartInfo(executable) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = RepoPaths.Root };
        start.Environment["PORT"] = port.ToString(CultureInfo.InvariantCulture);
        start.Environment["METRICS_PORT"] = metricsPort.ToString(CultureInfo.InvariantCulture);
        start.Environment["BIND_ADDRESS"] = "127.0.0.1";
        start.Environment["LOG_STORE"] = "none";
        start.Environment["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.BaseUrl.ToString();
        start.Environment["OTEL_BSP_SCHEDULE_DELAY"] = "100";
        start.Environment["SERVICE_NAME"] = "published-gateway";
        using var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
            await WaitForHealthAsync(http);
            var response = await http.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat("published", "m-published"),
                ("x-portkey-config", Requests.Target(sim.BaseUrl)), ("x-portkey-trace-id", "published-trace")));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            await response.Content.ReadAsStringAsync();

            var scrape = await PrometheusScrape.FetchAsync(http, new Uri($"http://127.0.0.1:{metricsPort}/metrics"), output);
            Assert.Equal(1, scrape.Sum("switchyard_requests_total", ("gen_ai_request_model", "m-published"), ("http_response_status_code", "200")));
            Assert.Equal(1, scrape.Sum("gen_ai_client_operation_duration_seconds", ("gen_ai_request_model", "m-published")));
            Assert.Contains(scrape.Names, n => n.StartsWith("dotnet_", StringComparison.Ordinal));
            Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/metrics")).StatusCode);

            var spans = await receiver.WaitForAsync(s => s.Any(x => x.Attribute("switchyard.trace_id") as string == "published-trace")
                && s.Any(x => x.Kind == ReceivedSpan.Client), TimeSpan.FromSeconds(30));
            var request = spans.Single(s => s.Attribute("switchyard.trace_id") as string == "published-trace");
            Assert.Equal("chat m-published", request.Name);
            Assert.Equal("published-gateway", request.Resource["service.name"]);
            var attempt = spans.Single(s => s.Kind == ReceivedSpan.Client && s.TraceId == request.TraceId);
            Assert.Equal(request.SpanId, attempt.ParentSpanId);
            Assert.StartsWith($"00-{request.TraceId}-{attempt.SpanId}-", sim.Requests[0].Headers["traceparent"]);
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }
}
