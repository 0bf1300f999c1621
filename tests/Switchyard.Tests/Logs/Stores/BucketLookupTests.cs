using System.Net;
using Azure.Storage;
using Azure.Storage.Blobs;
using Switchyard.Core.Logs;
using Switchyard.Core.Logs.Delivery;
using Switchyard.Simulators;
using Switchyard.Tests.Infrastructure;
using Xunit;

namespace Switchyard.Tests.Logs.Stores;

/// <summary>The gateway logging to Azure Blob (azurite), and an operator reading a record back through <c>GET /v1/logs/{id}</c>.</summary>
public sealed class BucketLookupTests
{
    [Theory]
    [InlineData("v1")]
    [InlineData("v2")]
    public async Task A_record_written_to_azure_blob_is_read_back_through_the_gateway(string format)
    {
        await using var azurite = new AzuriteServer();
        await azurite.InitializeAsync();
        var container = "logs-" + format;
        await new BlobContainerClient(new Uri($"{azurite.Endpoint}/{container}"), new StorageSharedKeyCredential(AzuriteServer.Account, AzuriteServer.AccountKey)).CreateAsync();
        await using var sim = await OpenAiSimulator.StartAsync();
        var env = new Dictionary<string, string>
        {
            ["LOG_STORE"] = "azure",
            ["AZURE_STORAGE_ACCOUNT"] = AzuriteServer.Account,
            ["AZURE_STORAGE_KEY"] = AzuriteServer.AccountKey,
            ["AZURE_STORAGE_CONTAINER"] = container,
            ["LOG_STORE_ENDPOINT"] = azurite.Endpoint.ToString(),
            ["LOG_STORE_FILE_PATH_FORMAT"] = format,
            ["LOG_STORE_ORGANISATION_ID"] = "acme",
            ["LOG_STORE_SPILL_PATH"] = Directory.CreateTempSubdirectory("switchyard-spill-").FullName,
            ["LOG_LOOKUP_ENABLED"] = "true",
        };
        await using var gw = await TestGateway.StartAsync(settings: s => s with { Logs = LogStoreOptions.FromEnvironment(name => env.GetValueOrDefault(name)) });
        var response = await gw.SendAsync(TestGateway.Post("/v1/chat/completions", Requests.Chat("find me in the bucket"), Requests.HeaderMode(sim.BaseUrl)));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var id = response.Header("x-portkey-trace-id");
        await Assert.IsType<LogShipper>(gw.Engine.RequestLog).WhenDrainedAsync().WaitAsync(TimeSpan.FromSeconds(60));

        var found = await gw.Client.GetAsync($"/v1/logs/{id}");
        Assert.Equal(HttpStatusCode.OK, found.StatusCode);
        var record = await found.JsonAsync();
        Assert.Equal(id, record.GetProperty("_id").GetString());
        Assert.Equal("acme", record.GetProperty("organisation_id").GetString());
        Assert.Equal("find me in the bucket", record.GetProperty("request").GetProperty("body").GetProperty("messages")[0].GetProperty("content").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await gw.Client.GetAsync($"/v1/logs/{Guid.CreateVersion7()}")).StatusCode);

        // The object is where the path format puts it.
        var blobs = new List<string>();
        await foreach (var blob in new BlobContainerClient(new Uri($"{azurite.Endpoint}/{container}"), new StorageSharedKeyCredential(AzuriteServer.Account, AzuriteServer.AccountKey)).GetBlobsAsync())
        {
            blobs.Add(blob.Name);
        }
        var key = Assert.Single(blobs);
        var now = DateTime.UtcNow;
        Assert.Equal(format == "v1" ? $"30/acme/{id}.json" : $"30/acme/default/{now:yyyy}/{now:MM}/{now:dd}/", format == "v1" ? key : key[..(key.LastIndexOf('/') - 2)]);
    }
}
