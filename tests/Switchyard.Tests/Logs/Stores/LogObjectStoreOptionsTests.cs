using Amazon;
using Amazon.Runtime;
using Azure.Identity;
using Microsoft.Extensions.Logging.Abstractions;
using Switchyard.Core.Logs.Stores;
using Xunit;
using static Switchyard.Tests.Logs.Stores.StoreEnvironment;

namespace Switchyard.Tests.Logs.Stores;

public sealed class LogObjectStoreOptionsTests
{
    private static readonly (string, string)[] S3 =
        [("LOG_STORE", "s3"), ("LOG_STORE_REGION", "eu-west-1"), ("LOG_STORE_GENERATIONS_BUCKET", "logs"), ("LOG_STORE_ACCESS_KEY", "AKIA1"), ("LOG_STORE_SECRET_KEY", "secret")];

    private static readonly (string, string)[] Azure =
        [("LOG_STORE", "azure"), ("AZURE_STORAGE_ACCOUNT", "acct"), ("AZURE_STORAGE_CONTAINER", "logs"), ("AZURE_STORAGE_KEY", AzuriteServer.AccountKey)];

    private static (string, string)[] With((string, string)[] baseline, params (string Name, string Value)[] changes) =>
        [.. baseline.Where(b => changes.All(c => c.Name != b.Item1)), .. changes.Where(c => c.Value is not null)];

    private static (string, string)[] Without((string, string)[] baseline, string name) => [.. baseline.Where(b => b.Item1 != name)];

    private static string Refused(params (string, string)[] variables) => Assert.Throws<FormatException>(() => Options(variables)).Message;

    [Theory]
    [InlineData(null)]
    [InlineData("local")]
    [InlineData("none")]
    public void Local_and_none_read_no_object_store_settings(string? store)
    {
        var o = store is null ? Options(("LOG_STORE_REGION", "x")) : Options(("LOG_STORE", store), ("AZURE_AUTH_MODE", "nonsense"));
        Assert.Null(o.Kind);
        Assert.Null(o.Region);
        Assert.Equal(LogObjectPathFormat.V1, o.PathFormat);
    }

    [Fact]
    public void S3_reads_its_variables()
    {
        var o = Options(With(S3, ("LOG_STORE_BASEPATH", "gw"), ("LOG_STORE_OBJECT_LOCK_RETENTION_ENABLED", "true"), ("LOG_STORE_FILE_PATH_FORMAT", "v2")));
        Assert.Equal(("s3", "eu-west-1", "logs", "AKIA1", "secret", "gw/", true, LogObjectPathFormat.V2),
            (o.Kind, o.Region, o.Bucket, o.AccessKey, o.SecretKey, o.KeyPrefix, o.ObjectLockRetention, o.PathFormat));
        Assert.Null(o.Endpoint);
    }

    [Theory]
    [InlineData("LOG_STORE_REGION")]
    [InlineData("LOG_STORE_GENERATIONS_BUCKET")]
    [InlineData("LOG_STORE_ACCESS_KEY")]
    [InlineData("LOG_STORE_SECRET_KEY")]
    public void S3_names_each_missing_variable(string missing)
    {
        Assert.Contains(missing, Refused(Without(S3, missing)));
    }

    [Fact]
    public void S3_custom_takes_endpoint_bucket_and_prefix_from_the_base_path()
    {
        var o = Options(("LOG_STORE", "S3_CUSTOM"), ("LOG_STORE_BASEPATH", "http://minio.logs.svc:9000/gateway-logs/prod/eu"),
            ("LOG_STORE_ACCESS_KEY", "minio"), ("LOG_STORE_SECRET_KEY", "minio123"));
        Assert.Equal(("s3_custom", "http://minio.logs.svc:9000/", "gateway-logs", "prod/eu/", "us-east-1"),
            (o.Kind, o.Endpoint!.ToString(), o.Bucket, o.KeyPrefix, o.Region));

        Assert.Contains("LOG_STORE_BASEPATH", Refused(("LOG_STORE", "s3_custom"), ("LOG_STORE_ACCESS_KEY", "a"), ("LOG_STORE_SECRET_KEY", "b")));
        Assert.Contains("names no bucket", Refused(("LOG_STORE", "s3_custom"), ("LOG_STORE_BASEPATH", "http://minio:9000"), ("LOG_STORE_ACCESS_KEY", "a"), ("LOG_STORE_SECRET_KEY", "b")));
        Assert.Contains("http(s)://host", Refused(("LOG_STORE", "netapp"), ("LOG_STORE_BASEPATH", "minio:9000/logs"), ("LOG_STORE_ACCESS_KEY", "a"), ("LOG_STORE_SECRET_KEY", "b")));
        Assert.Contains("LOG_STORE_ACCESS_KEY", Refused(("LOG_STORE", "s3_custom"), ("LOG_STORE_BASEPATH", "http://minio:9000/logs")));
        Assert.Contains("LOG_STORE_ENDPOINT does not apply", Refused(("LOG_STORE", "s3_custom"), ("LOG_STORE_BASEPATH", "http://minio:9000/logs"),
            ("LOG_STORE_ACCESS_KEY", "a"), ("LOG_STORE_SECRET_KEY", "b"), ("LOG_STORE_ENDPOINT", "http://other:9000")));
    }

    [Fact]
    public void S3_assume_needs_no_keys_but_keys_need_a_role()
    {
        var o = Options(("LOG_STORE", "s3_assume"), ("LOG_STORE_REGION", "us-east-2"), ("LOG_STORE_GENERATIONS_BUCKET", "logs"), ("AWS_IMDS_V1", "true"));
        Assert.Equal(("s3_assume", null, null, true), (o.Kind, o.AccessKey, o.RoleArn, o.ImdsV1));

        Assert.Contains("LOG_STORE_AWS_ROLE_ARN", Refused(("LOG_STORE", "s3_assume"), ("LOG_STORE_REGION", "us-east-2"), ("LOG_STORE_GENERATIONS_BUCKET", "logs"),
            ("LOG_STORE_ACCESS_KEY", "a"), ("LOG_STORE_SECRET_KEY", "b")));
        Assert.Contains("not a role ARN", Refused(With(S3, ("LOG_STORE_AWS_ROLE_ARN", "my-role"))));
        Assert.Contains("LOG_STORE_AWS_ROLE_ARN", Refused(With(S3, ("LOG_STORE_AWS_EXTERNAL_ID", "x"))));
        Assert.Contains("LOG_STORE_SECRET_KEY is set", Refused(("LOG_STORE", "s3_assume"), ("LOG_STORE_REGION", "r"), ("LOG_STORE_GENERATIONS_BUCKET", "b"), ("LOG_STORE_SECRET_KEY", "s")));
    }

    [Fact]
    public void Gcs_hmac_defaults_to_region_auto_and_needs_keys()
    {
        var o = Options(("LOG_STORE", "gcs"), ("LOG_STORE_GENERATIONS_BUCKET", "logs"), ("LOG_STORE_ACCESS_KEY", "GOOG1E"), ("LOG_STORE_SECRET_KEY", "s"));
        Assert.Equal(("auto", "logs"), (o.Region, o.Bucket));
        Assert.Contains("gcs_assume", Refused(("LOG_STORE", "gcs"), ("LOG_STORE_GENERATIONS_BUCKET", "logs")));
    }

    [Fact]
    public void Gcs_assume_reads_the_auth_mode_and_metadata_host()
    {
        var o = Options(("LOG_STORE", "gcs_assume"), ("LOG_STORE_GENERATIONS_BUCKET", "logs"), ("GCP_AUTH_MODE", "Workload"), ("GCE_METADATA_HOST", "10.0.0.1:8080"));
        Assert.Equal(("workload", "10.0.0.1:8080", "logs"), (o.GcpAuthMode, o.GceMetadataHost, o.Bucket));
        Assert.Equal("metadata.google.internal", Options(("LOG_STORE", "gcs_assume"), ("LOG_STORE_GENERATIONS_BUCKET", "logs")).GceMetadataHost);
        Assert.Contains("GCP_AUTH_MODE=federation", Refused(("LOG_STORE", "gcs_assume"), ("LOG_STORE_GENERATIONS_BUCKET", "logs"), ("GCP_AUTH_MODE", "federation")));
        Assert.Contains("LOG_STORE_GENERATIONS_BUCKET", Refused(("LOG_STORE", "gcs_assume")));
    }

    [Fact]
    public void Azure_reads_each_auth_mode_and_names_what_is_missing()
    {
        var shared = Options(Azure);
        Assert.Equal(("sharedkey", "acct", "logs"), (shared.AzureAuthMode, shared.AzureAccount, shared.Bucket));
        Assert.Contains("AZURE_STORAGE_ACCOUNT", Refused(Without(Azure, "AZURE_STORAGE_ACCOUNT")));
        Assert.Contains("AZURE_STORAGE_CONTAINER", Refused(Without(Azure, "AZURE_STORAGE_CONTAINER")));
        Assert.Contains("AZURE_STORAGE_KEY", Refused(Without(Azure, "AZURE_STORAGE_KEY")));
        Assert.Contains("base64", Refused(With(Azure, ("AZURE_STORAGE_KEY", "not base64!"))));
        Assert.Contains("AZURE_AUTH_MODE=msi", Refused(With(Azure, ("AZURE_AUTH_MODE", "msi"))));

        var managed = Options(With(Without(Azure, "AZURE_STORAGE_KEY"), ("AZURE_AUTH_MODE", "managed"), ("AZURE_MANAGED_CLIENT_ID", "client-1")));
        Assert.Equal(("managed", "client-1"), (managed.AzureAuthMode, managed.AzureManagedClientId));

        var entra = With(Without(Azure, "AZURE_STORAGE_KEY"), ("AZURE_AUTH_MODE", "entra"), ("AZURE_ENTRA_CLIENT_ID", "c"), ("AZURE_ENTRA_CLIENT_SECRET", "s"), ("AZURE_ENTRA_TENANT_ID", "t"));
        Assert.Equal(("c", "s", "t"), (Options(entra).AzureClientId, Options(entra).AzureClientSecret, Options(entra).AzureTenantId));
        foreach (var name in new[] { "AZURE_ENTRA_CLIENT_ID", "AZURE_ENTRA_CLIENT_SECRET", "AZURE_ENTRA_TENANT_ID" })
        {
            Assert.Contains(name, Refused(Without(entra, name)));
        }

        var workload = With(Without(Azure, "AZURE_STORAGE_KEY"), ("AZURE_AUTH_MODE", "workload"), ("AZURE_CLIENT_ID", "c"), ("AZURE_TENANT_ID", "t"),
            ("AZURE_FEDERATED_TOKEN_FILE", "/var/run/secrets/azure/tokens/azure-identity-token"));
        Assert.Equal("/var/run/secrets/azure/tokens/azure-identity-token", Options(workload).AzureFederatedTokenFile);
        Assert.Contains("AZURE_FEDERATED_TOKEN_FILE", Refused(Without(workload, "AZURE_FEDERATED_TOKEN_FILE")));
    }

    [Fact]
    public void Encryption_settings_are_checked_together()
    {
        var kms = Options(With(S3, ("SSE_ENCRYPTION_TYPE", "aws:kms"), ("KMS_KEY_ID", "arn:aws:kms:eu-west-1:1:key/k"), ("KMS_BUCKET_KEY_ENABLED", "true"),
            ("KMS_ENCRYPTION_CONTEXT", """{"app":"switchyard"}""")));
        Assert.Equal(("aws:kms", "arn:aws:kms:eu-west-1:1:key/k", true), (kms.ServerSideEncryption, kms.KmsKeyId, kms.KmsBucketKeyEnabled));
        Assert.Equal("""{"app":"switchyard"}""", System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(kms.KmsEncryptionContext!)));
        // Already base64: taken as it is.
        Assert.Equal(kms.KmsEncryptionContext, Options(With(S3, ("SSE_ENCRYPTION_TYPE", "aws:kms"), ("KMS_ENCRYPTION_CONTEXT", kms.KmsEncryptionContext!))).KmsEncryptionContext);

        Assert.Contains("SSE_ENCRYPTION_TYPE=aes128", Refused(With(S3, ("SSE_ENCRYPTION_TYPE", "aes128"))));
        Assert.Contains("KMS_KEY_ID needs SSE_ENCRYPTION_TYPE", Refused(With(S3, ("KMS_KEY_ID", "k"))));
        Assert.Contains("KMS_KEY_ID needs SSE_ENCRYPTION_TYPE", Refused(With(S3, ("SSE_ENCRYPTION_TYPE", "AES256"), ("KMS_KEY_ID", "k"))));
        Assert.Contains("JSON object of strings", Refused(With(S3, ("SSE_ENCRYPTION_TYPE", "aws:kms"), ("KMS_ENCRYPTION_CONTEXT", """{"n":1}"""))));
        Assert.Contains("KMS_ROLE_ARN", Refused(With(S3, ("KMS_ROLE_ARN", "arn:aws:iam::1:role/k"))));
        Assert.Contains("KMS_BUCKET_KEY_ENABLED=maybe", Refused(With(S3, ("SSE_ENCRYPTION_TYPE", "aws:kms"), ("KMS_BUCKET_KEY_ENABLED", "maybe"))));

        var key = Convert.ToBase64String(Enumerable.Range(0, 32).Select(i => (byte)i).ToArray());
        var ssec = Options(With(S3, ("KMS_ENCRYPTION_CUSTOMER_KEY", key), ("KMS_ENCRYPTION_ALGORITHM", "AES256")));
        Assert.Equal(("AES256", key), (ssec.CustomerKeyAlgorithm, ssec.CustomerKey));
        Assert.Equal(Convert.ToBase64String(System.Security.Cryptography.MD5.HashData(Convert.FromBase64String(key))), ssec.CustomerKeyMd5);
        Assert.Contains("32-byte", Refused(With(S3, ("KMS_ENCRYPTION_CUSTOMER_KEY", Convert.ToBase64String(new byte[16])))));
        Assert.Contains("does not match", Refused(With(S3, ("KMS_ENCRYPTION_CUSTOMER_KEY", key), ("KMS_ENCRYPTION_CUSTOMER_KEY_MD5", "AAAA"))));
        Assert.Contains("exclude each other", Refused(With(S3, ("KMS_ENCRYPTION_CUSTOMER_KEY", key), ("SSE_ENCRYPTION_TYPE", "AES256"))));
    }

    [Fact]
    public void Malformed_common_values_are_named()
    {
        Assert.Contains("LOG_STORE_FILE_PATH_FORMAT=v3", Refused(("LOG_STORE_FILE_PATH_FORMAT", "v3")));
        Assert.Contains("LOG_STORE_ORGANISATION_ID=a/b", Refused(("LOG_STORE_ORGANISATION_ID", "a/b")));
        Assert.Contains("LOG_STORE_WORKSPACE_SLUG=..", Refused(("LOG_STORE_WORKSPACE_SLUG", "..")));
        Assert.Contains("LOG_STORE_OBJECT_LOCK_RETENTION_ENABLED=yep", Refused(With(S3, ("LOG_STORE_OBJECT_LOCK_RETENTION_ENABLED", "yep"))));
        Assert.Contains("LOG_STORE_ENDPOINT=ftp://x", Refused(With(S3, ("LOG_STORE_ENDPOINT", "ftp://x"))));
        Assert.Contains("LOG_STORE_BASEPATH", Refused(With(S3, ("LOG_STORE_BASEPATH", "a//b"))));
        Assert.Contains("AWS_IMDS_V1=2", Refused(("LOG_STORE", "s3_assume"), ("LOG_STORE_REGION", "r"), ("LOG_STORE_GENERATIONS_BUCKET", "b"), ("AWS_IMDS_V1", "2")));
    }

    [Fact]
    public void S3_client_settings_follow_the_kind()
    {
        var aws = S3LogStore.CreateConfig(Options(S3));
        Assert.Equal((RegionEndpoint.EUWest1, null, 1, RequestChecksumCalculation.WHEN_SUPPORTED),
            (aws.RegionEndpoint, aws.ServiceURL, aws.MaxErrorRetry, aws.RequestChecksumCalculation));

        var china = S3LogStore.CreateConfig(Options(With(S3, ("LOG_STORE_REGION", "cn-north-1"), ("AWS_ENDPOINT_DOMAIN", "amazonaws.com.cn"))));
        Assert.Equal(("https://s3.cn-north-1.amazonaws.com.cn/", "cn-north-1", false), (china.ServiceURL, china.AuthenticationRegion, china.ForcePathStyle));

        var wasabi = S3LogStore.CreateConfig(Options(With(S3, ("LOG_STORE", "wasabi"), ("LOG_STORE_REGION", "eu-central-2"))));
        Assert.Equal(("https://s3.eu-central-2.wasabisys.com/", true, RequestChecksumCalculation.WHEN_REQUIRED),
            (wasabi.ServiceURL, wasabi.ForcePathStyle, wasabi.RequestChecksumCalculation));

        var gcs = S3LogStore.CreateConfig(Options(("LOG_STORE", "gcs"), ("LOG_STORE_GENERATIONS_BUCKET", "b"), ("LOG_STORE_ACCESS_KEY", "GOOG1"), ("LOG_STORE_SECRET_KEY", "s")));
        Assert.Equal(("https://storage.googleapis.com/", "auto", true, RequestChecksumCalculation.WHEN_REQUIRED, ResponseChecksumValidation.WHEN_REQUIRED),
            (gcs.ServiceURL, gcs.AuthenticationRegion, gcs.ForcePathStyle, gcs.RequestChecksumCalculation, gcs.ResponseChecksumValidation));
    }

    [Fact]
    public void The_factory_builds_the_store_for_the_kind_and_refuses_a_mismatch()
    {
        var o = Options(S3);
        Assert.Contains("LOG_STORE=azure", Assert.Throws<FormatException>(() => LogObjectStores.Create(o, "azure", TimeProvider.System, NullLogger.Instance)).Message);
        Assert.Contains("not an object store", Assert.Throws<FormatException>(() => LogObjectStores.Create(o, "local", TimeProvider.System, NullLogger.Instance)).Message);
        Assert.IsType<S3LogStore>(LogObjectStores.Create(o, "S3", TimeProvider.System, NullLogger.Instance));
        Assert.IsType<AzureBlobLogStore>(LogObjectStores.Create(Options(Azure), "azure", TimeProvider.System, NullLogger.Instance));
        var gcs = Options(("LOG_STORE", "gcs_assume"), ("LOG_STORE_GENERATIONS_BUCKET", "logs"), ("GCP_AUTH_MODE", "workload"), ("GCE_METADATA_HOST", "127.0.0.1:9"));
        Assert.IsType<GcsLogStore>(LogObjectStores.Create(gcs, "gcs_assume", TimeProvider.System, NullLogger.Instance));
    }

    [Fact]
    public void Azure_token_modes_get_the_matching_credential()
    {
        var baseline = Without(Azure, "AZURE_STORAGE_KEY");
        Assert.IsType<ManagedIdentityCredential>(AzureBlobLogStore.CreateTokenCredential(Options(With(baseline, ("AZURE_AUTH_MODE", "managed")))));
        Assert.IsType<ClientSecretCredential>(AzureBlobLogStore.CreateTokenCredential(Options(With(baseline, ("AZURE_AUTH_MODE", "entra"),
            ("AZURE_ENTRA_CLIENT_ID", "c"), ("AZURE_ENTRA_CLIENT_SECRET", "s"), ("AZURE_ENTRA_TENANT_ID", "t")))));
        Assert.IsType<WorkloadIdentityCredential>(AzureBlobLogStore.CreateTokenCredential(Options(With(baseline, ("AZURE_AUTH_MODE", "workload"),
            ("AZURE_CLIENT_ID", "c"), ("AZURE_TENANT_ID", "t"), ("AZURE_FEDERATED_TOKEN_FILE", "/tmp/token")))));
    }

    [Theory]
    [InlineData("azure")]
    [InlineData("gcs_assume")]
    [InlineData("gcs")]
    public void Encryption_settings_are_refused_where_they_cannot_apply(string kind)
    {
        (string, string)[] required = kind switch
        {
            "azure" => [("AZURE_STORAGE_ACCOUNT", "acct"), ("AZURE_STORAGE_KEY", Convert.ToBase64String(new byte[32])), ("AZURE_STORAGE_CONTAINER", "logs")],
            "gcs" => [("LOG_STORE_GENERATIONS_BUCKET", "b"), ("LOG_STORE_ACCESS_KEY", "GOOG1X"), ("LOG_STORE_SECRET_KEY", "s")],
            _ => [("LOG_STORE_GENERATIONS_BUCKET", "b"), ("GCP_AUTH_MODE", "workload")],
        };
        Options([("LOG_STORE", kind), .. required]); // valid without it
        var message = Refused([("LOG_STORE", kind), .. required, ("KMS_KEY_ID", "alias/logs")]);
        Assert.Contains("KMS_KEY_ID", message);
        Assert.Contains("S3 log stores", message);
    }
}
