using Azure;
using Azure.Storage;
using Azure.Storage.Blobs;
using Microsoft.Extensions.Logging.Abstractions;
using Switchyard.Core.Logs.Stores;
using Xunit;
using static Switchyard.Tests.Logs.Stores.StoreEnvironment;

namespace Switchyard.Tests.Logs.Stores;

/// <summary>The azure kind with shared-key auth against a real azurite on loopback, which checks the SharedKey signature.</summary>
public sealed class AzureBlobLogStoreTests(AzuriteServer azurite) : IClassFixture<AzuriteServer>
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    private (string, string)[] Env(string container, string key = AzuriteServer.AccountKey) =>
        [("LOG_STORE", "azure"), ("AZURE_STORAGE_ACCOUNT", AzuriteServer.Account), ("AZURE_STORAGE_KEY", key), ("AZURE_STORAGE_CONTAINER", container),
            ("LOG_STORE_ENDPOINT", azurite.Endpoint.ToString())];

    /// <summary>A fresh container, made by the test: the store itself never creates one.</summary>
    private async Task<BlobContainerClient> ContainerAsync()
    {
        var container = new BlobContainerClient(new Uri($"{azurite.Endpoint}/logs-{Guid.NewGuid():N}"),
            new StorageSharedKeyCredential(AzuriteServer.Account, AzuriteServer.AccountKey));
        await container.CreateAsync();
        return container;
    }

    [Fact]
    public async Task Writes_the_document_as_a_json_blob_and_reads_it_back()
    {
        var container = await ContainerAsync();
        var o = Options([.. Env(container.Name), ("LOG_STORE_BASEPATH", "gw"), ("LOG_STORE_FILE_PATH_FORMAT", "v2"), ("LOG_STORE_ORGANISATION_ID", "org-1")]);
        await using var store = LogObjectStores.Create(o, "azure", TimeProvider.System, NullLogger.Instance);
        var id = Guid.CreateVersion7(new DateTimeOffset(2026, 1, 31, 23, 30, 0, TimeSpan.Zero)).ToString();
        var key = LogObjectPath.For(o, id, DateTimeOffset.UtcNow);
        Assert.Equal($"gw/30/org-1/default/2026/01/31/23/{id}.json", key);

        await store.PutAsync(key, Document(id), Ct);

        Assert.True(LogObjectPath.TryForLogId(o, id, out var lookup));
        Assert.Equal(Document(id), await store.GetAsync(lookup, Ct));
        var blob = container.GetBlobClient(key);
        Assert.Equal("application/json", (await blob.GetPropertiesAsync()).Value.ContentType);
        Assert.Equal(Document(id), (await blob.DownloadContentAsync()).Value.Content.ToArray());
    }

    [Fact]
    public async Task Writing_the_same_key_again_overwrites_it()
    {
        var container = await ContainerAsync();
        await using var store = Store(Env(container.Name));
        await store.PutAsync("30/o/again.json", Document("first"), Ct);
        await store.PutAsync("30/o/again.json", Document("second"), Ct);
        Assert.Equal(Document("second"), await store.GetAsync("30/o/again.json", Ct));
        Assert.Single(container.GetBlobs());
    }

    [Fact]
    public async Task A_missing_blob_reads_as_null_but_a_missing_container_is_an_error()
    {
        var container = await ContainerAsync();
        await using var store = Store(Env(container.Name));
        Assert.Null(await store.GetAsync("30/o/never-written.json", Ct));

        await using var noContainer = Store(Env("no-such-container"));
        var get = await Assert.ThrowsAsync<RequestFailedException>(() => noContainer.GetAsync("30/o/x.json", Ct));
        Assert.Equal((404, "ContainerNotFound"), (get.Status, get.ErrorCode));
        var put = await Assert.ThrowsAsync<RequestFailedException>(() => noContainer.PutAsync("30/o/x.json", Document("x"), Ct));
        Assert.Equal("ContainerNotFound", put.ErrorCode);
    }

    [Fact]
    public async Task A_wrong_account_key_is_refused_by_the_signature_check()
    {
        var container = await ContainerAsync();
        var wrongKey = Convert.ToBase64String(System.Text.Encoding.ASCII.GetBytes("not the devstoreaccount1 key at all, sixty-four bytes long....."));
        await using var store = Store(Env(container.Name, wrongKey));
        var ex = await Assert.ThrowsAsync<RequestFailedException>(() => store.PutAsync("30/o/denied.json", Document("denied"), Ct));
        Assert.Equal(403, ex.Status);
        Assert.False(await container.GetBlobClient("30/o/denied.json").ExistsAsync());
    }

    [Fact]
    public async Task The_store_fails_while_azurite_is_down_and_works_again_after_a_restart_on_the_same_port_and_data()
    {
        await using var own = new AzuriteServer();
        await own.InitializeAsync();
        var container = new BlobContainerClient(new Uri($"{own.Endpoint}/restart"), new StorageSharedKeyCredential(AzuriteServer.Account, AzuriteServer.AccountKey));
        await container.CreateAsync();
        await using var store = Store(("LOG_STORE", "azure"), ("AZURE_STORAGE_ACCOUNT", AzuriteServer.Account), ("AZURE_STORAGE_KEY", AzuriteServer.AccountKey),
            ("AZURE_STORAGE_CONTAINER", "restart"), ("LOG_STORE_ENDPOINT", own.Endpoint.ToString()));
        await store.PutAsync("30/r/before.json", Document("before"), Ct);

        await own.StopAsync();
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        {
            await Assert.ThrowsAnyAsync<Exception>(() => store.PutAsync("30/r/during.json", Document("during"), timeout.Token));
        }

        await own.StartAgainAsync();
        await store.PutAsync("30/r/after.json", Document("after"), Ct);
        Assert.Equal(Document("before"), await store.GetAsync("30/r/before.json", Ct));
        Assert.Equal(Document("after"), await store.GetAsync("30/r/after.json", Ct));
        Assert.Null(await store.GetAsync("30/r/during.json", Ct));
    }
}
