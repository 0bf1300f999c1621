using System.Net;
using System.Security.Cryptography;
using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Extensions.Logging.Abstractions;
using Switchyard.Core.Logs.Stores;
using Switchyard.Simulators.Bedrock;
using Xunit;
using static Switchyard.Tests.Logs.Stores.StoreEnvironment;

namespace Switchyard.Tests.Logs.Stores;

/// <summary>S3-API kinds against a real s3rver on loopback: s3_custom, gcs (HMAC through the S3 path), s3 and s3_assume.</summary>
public sealed class S3LogStoreTests(S3rverServer s3) : IClassFixture<S3rverServer>
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    private (string, string)[] Custom(string basePath = "") =>
        [("LOG_STORE", "s3_custom"), ("LOG_STORE_BASEPATH", $"{s3.Endpoint}{S3rverServer.Bucket}{basePath}"),
            ("LOG_STORE_ACCESS_KEY", S3rverServer.AccessKey), ("LOG_STORE_SECRET_KEY", S3rverServer.SecretKey)];

    /// <summary>The object as s3rver serves it to a plain unsigned GET: proves the key and the stored bytes without our client.</summary>
    private async Task<(HttpStatusCode Status, byte[] Body, string? ContentType)> RawGetAsync(string key)
    {
        using var http = new HttpClient();
        using var response = await http.GetAsync($"{s3.Endpoint}{S3rverServer.Bucket}/{key}");
        return (response.StatusCode, await response.Content.ReadAsByteArrayAsync(), response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task S3_custom_writes_the_document_under_its_key_and_reads_it_back()
    {
        var o = Options(Custom("/gateway/prod"));
        await using var store = LogObjectStores.Create(o, "s3_custom", TimeProvider.System, NullLogger.Instance);
        var id = Guid.CreateVersion7().ToString();
        var key = LogObjectPath.For(o, id, DateTimeOffset.UtcNow);
        Assert.StartsWith("gateway/prod/30/", key);
        var document = Document(id);

        await store.PutAsync(key, document, Ct);

        Assert.Equal(document, await store.GetAsync(key, Ct));
        var raw = await RawGetAsync(key);
        Assert.Equal((HttpStatusCode.OK, "application/json"), (raw.Status, raw.ContentType));
        Assert.Equal(document, raw.Body); // no aws-chunked framing stored with the object
    }

    [Fact]
    public async Task Writing_the_same_key_again_leaves_one_object_with_the_latest_bytes()
    {
        await using var store = Store(Custom());
        var key = LogObjectPath.For(Options(Custom()), "again-" + Guid.NewGuid(), DateTimeOffset.UtcNow);
        await store.PutAsync(key, Document("first"), Ct);
        await store.PutAsync(key, Document("second"), Ct);
        Assert.Equal(Document("second"), await store.GetAsync(key, Ct));
    }

    [Fact]
    public async Task A_missing_key_reads_as_null_but_a_missing_bucket_is_an_error()
    {
        await using var store = Store(Custom());
        Assert.Null(await store.GetAsync("30/nobody/never-written.json", Ct));

        await using var wrongBucket = Store(("LOG_STORE", "s3_custom"), ("LOG_STORE_BASEPATH", $"{s3.Endpoint}no-such-bucket"),
            ("LOG_STORE_ACCESS_KEY", S3rverServer.AccessKey), ("LOG_STORE_SECRET_KEY", S3rverServer.SecretKey));
        var get = await Assert.ThrowsAsync<AmazonS3Exception>(() => wrongBucket.GetAsync("30/x.json", Ct));
        Assert.Equal("NoSuchBucket", get.ErrorCode);
        var put = await Assert.ThrowsAsync<AmazonS3Exception>(() => wrongBucket.PutAsync("30/x.json", Document("x"), Ct));
        Assert.Equal("NoSuchBucket", put.ErrorCode);
    }

    [Fact]
    public async Task An_unknown_access_key_fails_the_write()
    {
        await using var store = Store(("LOG_STORE", "s3_custom"), ("LOG_STORE_BASEPATH", $"{s3.Endpoint}{S3rverServer.Bucket}"),
            ("LOG_STORE_ACCESS_KEY", "AKIAUNKNOWN"), ("LOG_STORE_SECRET_KEY", "x"));
        var ex = await Assert.ThrowsAsync<AmazonS3Exception>(() => store.PutAsync("30/denied.json", Document("denied"), Ct));
        Assert.Equal(("InvalidAccessKeyId", HttpStatusCode.Forbidden), (ex.ErrorCode, ex.StatusCode));
        Assert.Equal(HttpStatusCode.NotFound, (await RawGetAsync("30/denied.json")).Status);
    }

    [Fact]
    public async Task Gcs_hmac_goes_through_the_s3_path_with_v2_keys()
    {
        // LOG_STORE_ENDPOINT stands in for https://storage.googleapis.com; everything else is as a gcs deployment sets it.
        var o = Options(("LOG_STORE", "gcs"), ("LOG_STORE_GENERATIONS_BUCKET", S3rverServer.Bucket), ("LOG_STORE_ENDPOINT", s3.Endpoint.ToString()),
            ("LOG_STORE_ACCESS_KEY", S3rverServer.AccessKey), ("LOG_STORE_SECRET_KEY", S3rverServer.SecretKey),
            ("LOG_STORE_FILE_PATH_FORMAT", "v2"), ("LOG_STORE_ORGANISATION_ID", "org-9"), ("LOG_STORE_WORKSPACE_SLUG", "ws"));
        await using var store = LogObjectStores.Create(o, "gcs", TimeProvider.System, NullLogger.Instance);
        var id = Guid.CreateVersion7(new DateTimeOffset(2026, 12, 7, 13, 5, 0, TimeSpan.Zero)).ToString();
        var key = LogObjectPath.For(o, id, DateTimeOffset.UtcNow);
        Assert.Equal($"30/org-9/ws/2026/12/07/13/{id}.json", key);

        await store.PutAsync(key, Document(id), Ct);

        Assert.True(LogObjectPath.TryForLogId(o, id, out var lookup));
        Assert.Equal(Document(id), await store.GetAsync(lookup, Ct));
        Assert.Equal(Document(id), (await RawGetAsync(key)).Body);
    }

    [Fact]
    public async Task Aws_s3_settings_with_sdk_checksums_store_the_exact_bytes()
    {
        // The s3 kind keeps the SDK's default CRC checksums (AWS validates them); the body must still arrive unframed.
        await using var store = Store(("LOG_STORE", "s3"), ("LOG_STORE_REGION", "eu-west-1"), ("LOG_STORE_GENERATIONS_BUCKET", S3rverServer.Bucket),
            ("LOG_STORE_ENDPOINT", s3.Endpoint.ToString()), ("LOG_STORE_ACCESS_KEY", S3rverServer.AccessKey), ("LOG_STORE_SECRET_KEY", S3rverServer.SecretKey),
            ("LOG_STORE_OBJECT_LOCK_RETENTION_ENABLED", "true"));
        var key = "30/aws-kind/" + Guid.NewGuid() + ".json";
        await store.PutAsync(key, Document("aws"), Ct);
        Assert.Equal(Document("aws"), (await RawGetAsync(key)).Body);
        Assert.Equal(Document("aws"), await store.GetAsync(key, Ct));
    }

    [Fact]
    public void Object_lock_and_encryption_settings_shape_the_put()
    {
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        var o = Options(("LOG_STORE", "s3"), ("LOG_STORE_REGION", "us-east-1"), ("LOG_STORE_GENERATIONS_BUCKET", "b"), ("LOG_STORE_ACCESS_KEY", "a"),
            ("LOG_STORE_SECRET_KEY", "s"), ("LOG_STORE_OBJECT_LOCK_RETENTION_ENABLED", "true"), ("SSE_ENCRYPTION_TYPE", "aws:kms:dsse"),
            ("KMS_KEY_ID", "alias/logs"), ("KMS_BUCKET_KEY_ENABLED", "false"), ("KMS_ENCRYPTION_CONTEXT", """{"team":"platform"}"""));
        var store = new S3LogStore(o, TimeProvider.System, NullLogger.Instance);
        var body = Document("lock");
        var put = store.PutRequest("30/k.json", body);
        Assert.Equal(Convert.ToBase64String(MD5.HashData(body)), put.MD5Digest);
        Assert.Equal(("application/json", false), (put.ContentType, put.UseChunkEncoding));
        Assert.Equal(ServerSideEncryptionMethod.AWSKMSDSSE, put.ServerSideEncryptionMethod);
        Assert.Equal(("alias/logs", false), (put.ServerSideEncryptionKeyManagementServiceKeyId, put.BucketKeyEnabled));
        Assert.Equal(o.KmsEncryptionContext, put.ServerSideEncryptionKeyManagementServiceEncryptionContext);

        var plain = new S3LogStore(Options(Custom()), TimeProvider.System, NullLogger.Instance).PutRequest("30/k.json", body);
        Assert.Null(plain.MD5Digest);
        Assert.Null(plain.ServerSideEncryptionMethod);

        var ssec = new S3LogStore(Options(("LOG_STORE", "s3"), ("LOG_STORE_REGION", "us-east-1"), ("LOG_STORE_GENERATIONS_BUCKET", "b"), ("LOG_STORE_ACCESS_KEY", "a"),
            ("LOG_STORE_SECRET_KEY", "s"), ("KMS_ENCRYPTION_CUSTOMER_KEY", key)), TimeProvider.System, NullLogger.Instance).PutRequest("30/k.json", body);
        Assert.Equal((ServerSideEncryptionCustomerMethod.AES256, key), (ssec.ServerSideEncryptionCustomerMethod, ssec.ServerSideEncryptionCustomerProvidedKey));
    }

    [Fact]
    public async Task S3_assume_with_a_role_signs_sts_with_the_source_keys_and_s3_with_the_temporary_ones()
    {
        // This s3rver knows only S3RVER and the first key the STS simulator issues, not the source key: a write that
        // succeeds was signed with the assumed role's credentials.
        await using var sts = await BedrockSimulator.StartAsync();
        sts.AddKey("AKIASOURCE0000000001", "source/secret");
        await using var s3Assumed = S3rverServer.WithAccessKeys("ASIASIM00000001");
        await s3Assumed.InitializeAsync();
        var env = new (string, string)[]
        {
            ("LOG_STORE", "s3_assume"), ("LOG_STORE_REGION", "eu-central-1"), ("LOG_STORE_GENERATIONS_BUCKET", S3rverServer.Bucket),
            ("LOG_STORE_ENDPOINT", s3Assumed.Endpoint.ToString()), ("AWS_ENDPOINT_URL_STS", sts.StsUrl),
            ("LOG_STORE_ACCESS_KEY", "AKIASOURCE0000000001"), ("LOG_STORE_SECRET_KEY", "source/secret"),
            ("LOG_STORE_AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/gateway-logs"), ("LOG_STORE_AWS_EXTERNAL_ID", "ext-77"),
        };
        await using var store = Store(env);
        await store.PutAsync("30/assumed/1.json", Document("1"), Ct);
        await store.PutAsync("30/assumed/2.json", Document("2"), Ct);
        Assert.Equal(Document("2"), await store.GetAsync("30/assumed/2.json", Ct));

        Assert.Equal(1, sts.AssumeRoleCount); // cached until shortly before expiry
        Assert.Equal("ext-77", sts.ExternalIdsSeen["arn:aws:iam::123456789012:role/gateway-logs"]);
        var call = Assert.Single(sts.StsRequests);
        Assert.Contains("Credential=AKIASOURCE0000000001/", call.Headers["Authorization"]);
        Assert.Contains("/eu-central-1/sts/aws4_request", call.Headers["Authorization"]);

        // A wrong source secret: STS refuses the signature, so nothing is written.
        await using var refused = Store([.. env.Where(e => e.Item1 != "LOG_STORE_SECRET_KEY"), ("LOG_STORE_SECRET_KEY", "wrong")]);
        await Assert.ThrowsAnyAsync<Exception>(() => refused.PutAsync("30/assumed/3.json", Document("3"), Ct));
        Assert.Null(await store.GetAsync("30/assumed/3.json", Ct));
    }

    [Fact]
    public async Task The_store_fails_while_s3rver_is_down_and_works_again_after_a_restart_on_the_same_port_and_data()
    {
        await using var own = new S3rverServer();
        await own.InitializeAsync();
        var env = new (string, string)[]
        {
            ("LOG_STORE", "s3_custom"), ("LOG_STORE_BASEPATH", $"{own.Endpoint}{S3rverServer.Bucket}"),
            ("LOG_STORE_ACCESS_KEY", S3rverServer.AccessKey), ("LOG_STORE_SECRET_KEY", S3rverServer.SecretKey),
        };
        await using var store = Store(env);
        await store.PutAsync("30/restart/before.json", Document("before"), Ct);

        await own.StopAsync();
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        {
            await Assert.ThrowsAnyAsync<Exception>(() => store.PutAsync("30/restart/during.json", Document("during"), timeout.Token));
        }

        await own.StartAgainAsync();
        await store.PutAsync("30/restart/after.json", Document("after"), Ct);
        Assert.Equal(Document("before"), await store.GetAsync("30/restart/before.json", Ct));
        Assert.Equal(Document("after"), await store.GetAsync("30/restart/after.json", Ct));
        Assert.Null(await store.GetAsync("30/restart/during.json", Ct));
    }
}
