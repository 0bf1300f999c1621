using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Switchyard.Core.Logs;
using Switchyard.Core.Logs.Delivery;
using Switchyard.Simulators;
using Switchyard.Tests.Infrastructure;
using Xunit;

namespace Switchyard.Tests.Logs.Stores;

/// <summary>
/// The whole gateway logging to a real S3 server (s3rver) that is stopped while requests flow and started again:
/// every record arrives exactly once, and a graceful shutdown under load loses none.
/// </summary>
public sealed partial class KillTheStoreTests
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);

    private static Func<Core.GatewaySettings, Core.GatewaySettings> Settings(S3rverServer s3, string spill) => s =>
    {
        var env = new Dictionary<string, string>
        {
            ["LOG_STORE"] = "s3_custom",
            ["LOG_STORE_BASEPATH"] = $"{s3.Endpoint}{S3rverServer.Bucket}",
            ["LOG_STORE_ACCESS_KEY"] = S3rverServer.AccessKey,
            ["LOG_STORE_SECRET_KEY"] = S3rverServer.SecretKey,
            ["LOG_STORE_SPILL_PATH"] = spill,
            ["LOG_STORE_CONNECTION_FAILURE_THRESHOLD"] = "3",
            ["LOG_STORE_CONNECTION_BACKOFF_MS"] = "300",
            ["LOG_STORE_CONNECTION_TIMEOUT_MS"] = "3000",
            ["LOG_STORE_RETRY_ATTEMPTS"] = "1",
            ["LOG_STORE_RETRY_DELAY_MS"] = "20",
            ["LOG_STORE_RETRY_MAX_DELAY_MS"] = "50",
            ["LOG_STORE_DRAIN_TIMEOUT_MS"] = "20000",
        };
        return s with { Logs = LogStoreOptions.FromEnvironment(name => env.GetValueOrDefault(name)) };
    };

    /// <summary>Every key in the bucket, from s3rver's ListObjectsV2 (unsigned, as s3rver allows), following continuation tokens.</summary>
    private static async Task<List<string>> KeysAsync(S3rverServer s3)
    {
        using var http = new HttpClient();
        var keys = new List<string>();
        string? token = null;
        do
        {
            var url = $"{s3.Endpoint}{S3rverServer.Bucket}?list-type=2&max-keys=1000" + (token is null ? "" : "&continuation-token=" + Uri.EscapeDataString(token));
            var xml = await ListPageAsync(http, url, s3);
            if (xml is null)
            {
                return KeysOnDisk(s3);
            }
            keys.AddRange(KeyElement().Matches(xml).Select(m => WebUtility.HtmlDecode(m.Groups[1].Value)));
            var next = NextToken().Match(xml);
            token = next.Success ? WebUtility.HtmlDecode(next.Groups[1].Value) : null;
        }
        while (token is not null);
        return keys;
    }

    /// <summary>
    /// The bucket's keys read from s3rver's data directory (<c>{bucket}/{key}._S3rver_object</c> with its
    /// <c>._S3rver_metadata.json</c>), for when its listing keeps failing on a metadata file that an aborted upload cut short:
    /// s3rver lists nothing then, although every complete object is there. An object whose metadata does not parse is left out,
    /// as it was never completed.
    /// </summary>
    private static List<string> KeysOnDisk(S3rverServer s3)
    {
        var bucket = Path.Combine(s3.DataDirectory, S3rverServer.Bucket);
        const string suffix = "._S3rver_object";
        var keys = new List<string>();
        foreach (var file in Directory.EnumerateFiles(bucket, "*" + suffix, SearchOption.AllDirectories))
        {
            try
            {
                using var _ = JsonDocument.Parse(File.ReadAllText(file[..^suffix.Length] + "._S3rver_metadata.json"));
            }
            catch (Exception e) when (e is JsonException or IOException)
            {
                continue;
            }
            keys.Add(Path.GetRelativePath(bucket, file)[..^suffix.Length].Replace(Path.DirectorySeparatorChar, '/'));
        }
        return keys;
    }

    /// <summary>
    /// One ListObjectsV2 page. s3rver reads each object's metadata file while listing and writes that file
    /// non-atomically, so a listing that meets a write still in progress (or a file cut by the stop) answers 500;
    /// a few tries apart, with the status, body and server output in the failure if it persists.
    /// </summary>
    private static async Task<string?> ListPageAsync(HttpClient http, string url, S3rverServer s3)
    {
        for (var attempt = 1; ; attempt++)
        {
            using var response = await http.GetAsync(url);
            var body = await response.Content.ReadAsStringAsync();
            if (response.IsSuccessStatusCode)
            {
                return body;
            }
            if (attempt == 5)
            {
                // A metadata file cut short by an aborted upload fails every listing: read the data directory instead.
                return null;
            }
            await Task.Delay(500);
        }
    }

    [GeneratedRegex("<Key>([^<]*)</Key>")]
    private static partial Regex KeyElement();

    [GeneratedRegex("<NextContinuationToken>([^<]*)</NextContinuationToken>")]
    private static partial Regex NextToken();

    private static async Task<string> ChatAsync(TestGateway gw, Uri upstream, int i)
    {
        var response = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat($"record {i}"), Requests.HeaderMode(upstream)));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await response.Content.ReadAsStringAsync();
        return response.Headers.GetValues("x-portkey-trace-id").Single();
    }

    [Fact]
    public async Task The_store_stopped_and_restarted_while_requests_flow_still_gets_every_record_exactly_once()
    {
        await using var s3 = new S3rverServer();
        await s3.InitializeAsync();
        await using var sim = await OpenAiSimulator.StartAsync();
        var spill = Directory.CreateTempSubdirectory("switchyard-spill-").FullName;
        await using var gw = await TestGateway.StartAsync(settings: Settings(s3, spill));
        var shipper = Assert.IsType<LogShipper>(gw.Engine.RequestLog);

        var ids = new List<string>();
        for (var i = 0; i < 20; i++)
        {
            ids.Add(await ChatAsync(gw, sim.BaseUrl, i));
        }
        await shipper.WhenDrainedAsync().WaitAsync(Bound);
        Assert.Equal(20, (await KeysAsync(s3)).Count);

        await s3.StopAsync();
        for (var i = 20; i < 60; i++)
        {
            ids.Add(await ChatAsync(gw, sim.BaseUrl, i)); // the answers never wait for the store
        }
        // With the store down the records wait on disk, and the breaker opens.
        // (The circuit is open between probes; a probe half-opens it for a moment, so the test waits to see it open.)
        var deadline = DateTime.UtcNow + Bound;
        var sawOpen = false;
        while ((shipper.SpilledRecords + shipper.QueueDepth < 40 || !sawOpen) && DateTime.UtcNow < deadline)
        {
            sawOpen |= shipper.CircuitOpen;
            await Task.Delay(20);
        }
        Assert.True(shipper.SpilledRecords > 0, $"spilled {shipper.SpilledRecords}, queued {shipper.QueueDepth}");
        Assert.True(sawOpen, "the circuit never opened while the store was down");

        await s3.StartAgainAsync();
        for (var i = 60; i < 70; i++)
        {
            ids.Add(await ChatAsync(gw, sim.BaseUrl, i));
        }
        await shipper.WhenDrainedAsync().WaitAsync(Bound);

        var keys = await KeysAsync(s3);
        Assert.Equal(70, keys.Count);
        Assert.Equal(70, keys.Distinct().Count());
        Assert.Equal(ids.Select(id => $"30/00000000-0000-0000-0000-000000000000/{id}.json").Order(), keys.Order());
        Assert.Equal(0, shipper.Dropped);
        Assert.Equal(0, shipper.SpilledRecords);
        Assert.False(shipper.CircuitOpen);

        // A record read back through the gateway is the request's document.
        using var http = new HttpClient();
        var document = JsonDocument.Parse(await http.GetByteArrayAsync($"{s3.Endpoint}{S3rverServer.Bucket}/{keys.First(k => k.Contains(ids[30]))}")).RootElement;
        Assert.Equal(ids[30], document.GetProperty("_id").GetString());
        Assert.Equal("record 30", document.GetProperty("request").GetProperty("body").GetProperty("messages")[0].GetProperty("content").GetString());
    }

    [Fact]
    public async Task A_graceful_shutdown_under_load_loses_no_record_and_a_spill_left_behind_is_delivered_by_the_next_start()
    {
        await using var s3 = new S3rverServer();
        await s3.InitializeAsync();
        await using var sim = await OpenAiSimulator.StartAsync();
        var spill = Directory.CreateTempSubdirectory("switchyard-spill-").FullName;
        var gw = await TestGateway.StartAsync(settings: Settings(s3, spill));

        // Load from 8 clients; the gateway is stopped while they run. Every request that got its answer must be logged.
        var answered = new System.Collections.Concurrent.ConcurrentBag<string>();
        using var stop = new CancellationTokenSource();
        var stopping = 0;
        var clients = Enumerable.Range(0, 8).Select(c => Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                try
                {
                    answered.Add(await ChatAsync(gw, sim.BaseUrl, c * 10_000 + i));
                }
                catch (Exception) when (Volatile.Read(ref stopping) == 1)
                {
                    return; // refused or cut by the shutdown
                }
            }
        })).ToList();
        var deadline = DateTime.UtcNow + Bound;
        while (answered.Count < 150 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }
        // Half-way through, the store goes away too: what cannot be uploaded at shutdown must reach the spill directory.
        await s3.StopAsync();
        await Task.Delay(100);
        Volatile.Write(ref stopping, 1);
        await gw.DisposeAsync(); // graceful: drains the queue, spills what the store cannot take
        stop.Cancel();
        await Task.WhenAll(clients);
        Assert.True(answered.Count >= 150);

        // Start again with the store back: the spill left by the first process is delivered.
        await s3.StartAgainAsync();
        await using var second = await TestGateway.StartAsync(settings: Settings(s3, spill));
        var shipper = Assert.IsType<LogShipper>(second.Engine.RequestLog);
        await shipper.WhenDrainedAsync().WaitAsync(Bound);

        var keys = (await KeysAsync(s3)).ToHashSet();
        var missing = answered.Where(id => !keys.Contains($"30/00000000-0000-0000-0000-000000000000/{id}.json")).ToList();
        Assert.True(missing.Count == 0, $"{missing.Count} of {answered.Count} answered requests have no record");
        Assert.Equal(0, shipper.SpilledRecords);
    }
}
