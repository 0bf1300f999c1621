using System.Net;
using Google;
using Google.Apis.Auth.OAuth2;
using Microsoft.Extensions.Logging.Abstractions;
using Switchyard.Core.Logs.Stores;
using Xunit;
using static Switchyard.Tests.Logs.Stores.StoreEnvironment;

namespace Switchyard.Tests.Logs.Stores;

/// <summary>
/// gcs_assume through Google.Cloud.Storage.V1 with workload identity: tokens from a loopback metadata server, objects in a
/// loopback GCS JSON API that accepts only those tokens.
/// </summary>
public sealed class GcsLogStoreTests : IAsyncLifetime
{
    private const string Bucket = "switchyard-logs";
    private static readonly CancellationToken Ct = CancellationToken.None;
    private FakeGceMetadataServer _metadata = null!;
    private FakeGcsServer _gcs = null!;

    public async Task InitializeAsync()
    {
        _metadata = await FakeGceMetadataServer.StartAsync();
        _gcs = await FakeGcsServer.StartAsync(_metadata.IsValid, Bucket);
    }

    public async Task DisposeAsync()
    {
        await _gcs.DisposeAsync();
        await _metadata.DisposeAsync();
    }

    private (string, string)[] Env(string bucket = Bucket) =>
        [("LOG_STORE", "gcs_assume"), ("GCP_AUTH_MODE", "workload"), ("GCE_METADATA_HOST", _metadata.Host), ("LOG_STORE_REGION", "europe-west4"),
            ("LOG_STORE_GENERATIONS_BUCKET", bucket), ("LOG_STORE_ENDPOINT", _gcs.Endpoint.ToString())];

    [Fact]
    public async Task Writes_with_a_metadata_server_token_and_reads_back()
    {
        var o = Options([.. Env(), ("LOG_STORE_BASEPATH", "gateway"), ("LOG_STORE_ORGANISATION_ID", "org-7")]);
        await using var store = LogObjectStores.Create(o, "gcs_assume", TimeProvider.System, NullLogger.Instance);
        var id = Guid.CreateVersion7().ToString();
        var key = LogObjectPath.For(o, id, DateTimeOffset.UtcNow);
        Assert.Equal($"gateway/30/org-7/{id}.json", key);

        await store.PutAsync(key, Document(id), Ct);

        Assert.Equal(Document(id), _gcs.Object(Bucket, key));
        Assert.Equal("application/json", _gcs.ContentType(Bucket, key));
        Assert.Equal(Document(id), await store.GetAsync(key, Ct));
        Assert.True(_metadata.Issued >= 1);
        Assert.Equal(0, _metadata.Refused);
        Assert.True(_gcs.HashesChecked >= 1, "the client sent no x-goog-hash with the upload");
        // Every call that needs a token carried one the metadata server issued (the fake refuses anything else with 401).
        Assert.All(_gcs.Requests, r => Assert.Equal(200, r.Status));
        Assert.Contains(_gcs.Requests, r => r.Method == "POST" && r.Target.StartsWith("/upload/storage/v1/b/" + Bucket + "/o", StringComparison.Ordinal));
        Assert.Contains(_gcs.Requests, r => r.Method == "GET" && r.Target.Contains("alt=media", StringComparison.Ordinal) && r.Authorization!.StartsWith("Bearer ya29.fake-", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_missing_object_reads_as_null_but_a_missing_bucket_is_an_error()
    {
        await using var store = Store(Env());
        Assert.Null(await store.GetAsync("30/o/never-written.json", Ct));

        await using var wrongBucket = Store(Env("no-such-bucket"));
        var get = await Assert.ThrowsAsync<GoogleApiException>(() => wrongBucket.GetAsync("30/o/x.json", Ct));
        Assert.Equal(HttpStatusCode.NotFound, get.HttpStatusCode);
        var put = await Assert.ThrowsAsync<GoogleApiException>(() => wrongBucket.PutAsync("30/o/x.json", Document("x"), Ct));
        Assert.Equal(HttpStatusCode.NotFound, put.HttpStatusCode);
    }

    [Fact]
    public async Task A_token_the_metadata_server_did_not_issue_is_refused()
    {
        var o = Options(Env());
        await using var store = new GcsLogStore(o, GoogleCredential.FromAccessToken("ya29.forged"), NullLogger.Instance);
        var ex = await Assert.ThrowsAsync<GoogleApiException>(() => store.PutAsync("30/o/forged.json", Document("forged"), Ct));
        Assert.Equal(HttpStatusCode.Unauthorized, ex.HttpStatusCode);
        Assert.Null(_gcs.Object(Bucket, "30/o/forged.json"));
    }

    [Fact]
    public async Task Without_a_metadata_server_the_write_fails()
    {
        // A port nothing listens on: workload identity cannot get a token, so the write must fail, not go out anonymous.
        var closed = Switchyard.Tests.Redis.RedisServer.FreePort();
        await using var store = Store([.. Env().Where(e => e.Item1 != "GCE_METADATA_HOST"), ("GCE_METADATA_HOST", $"127.0.0.1:{closed}")]);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await Assert.ThrowsAnyAsync<Exception>(() => store.PutAsync("30/o/no-token.json", Document("x"), timeout.Token));
        Assert.Null(_gcs.Object(Bucket, "30/o/no-token.json"));
        Assert.DoesNotContain(_gcs.Requests, r => r.Authorization is null && r.Method == "POST");
    }

    [Fact]
    public async Task The_fake_api_refuses_what_gcs_refuses()
    {
        using var http = new HttpClient { BaseAddress = _gcs.Endpoint };
        var media = "storage/v1/b/" + Bucket + "/o/30%2Fx.json?alt=media";
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync(media)).StatusCode);
        using (var forged = new HttpRequestMessage(HttpMethod.Get, media) { Headers = { { "Authorization", "Bearer ya29.forged" } } })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.SendAsync(forged)).StatusCode);
        }

        using var metadata = new HttpClient();
        Assert.Equal(HttpStatusCode.Forbidden, (await metadata.GetAsync($"http://{_metadata.Host}/computeMetadata/v1/instance/service-accounts/default/token")).StatusCode);
        using var tokenRequest = new HttpRequestMessage(HttpMethod.Get, $"http://{_metadata.Host}/computeMetadata/v1/instance/service-accounts/default/token");
        tokenRequest.Headers.Add("Metadata-Flavor", "Google");
        var token = System.Text.Json.JsonDocument.Parse(await (await metadata.SendAsync(tokenRequest)).Content.ReadAsStringAsync()).RootElement.GetProperty("access_token").GetString();

        HttpRequestMessage Authorised(HttpMethod method, string uri) => new(method, uri) { Headers = { { "Authorization", "Bearer " + token } } };
        using (var unknownBucket = Authorised(HttpMethod.Get, "storage/v1/b/other-bucket/o/30%2Fx.json?alt=media"))
        {
            Assert.Equal(HttpStatusCode.NotFound, (await http.SendAsync(unknownBucket)).StatusCode);
        }
        using (var missing = Authorised(HttpMethod.Get, media))
        {
            Assert.Equal(HttpStatusCode.NotFound, (await http.SendAsync(missing)).StatusCode);
        }
        using (var unknownSession = new HttpRequestMessage(HttpMethod.Put, "upload/storage/v1/b/" + Bucket + "/o?uploadType=resumable&upload_id=made-up") { Content = new ByteArrayContent([1]) })
        {
            Assert.Equal(HttpStatusCode.NotFound, (await http.SendAsync(unknownSession)).StatusCode);
        }
    }
}
