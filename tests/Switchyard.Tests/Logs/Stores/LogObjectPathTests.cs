using Microsoft.Extensions.Time.Testing;
using Switchyard.Core.Logs.Stores;
using Xunit;
using static Switchyard.Tests.Logs.Stores.StoreEnvironment;

namespace Switchyard.Tests.Logs.Stores;

public sealed class LogObjectPathTests
{
    private static readonly DateTimeOffset Created = new(2026, 12, 7, 23, 59, 58, TimeSpan.FromHours(-2)); // 2026-12-08 01:59:58 UTC

    [Fact]
    public void V1_is_flat_under_30_and_the_organisation()
    {
        var o = Options(("LOG_STORE_ORGANISATION_ID", "8d2c6a1e-0000-4000-8000-000000000001"));
        Assert.Equal("30/8d2c6a1e-0000-4000-8000-000000000001/log-1.json", LogObjectPath.For(o, "log-1", Created));
        Assert.Equal($"30/{LogObjectStoreOptions.DefaultOrganisationId}/log-1.json", LogObjectPath.For(Options(), "log-1", Created));
    }

    [Fact]
    public void V2_adds_the_workspace_and_the_utc_hour()
    {
        var o = Options(("LOG_STORE_FILE_PATH_FORMAT", "v2"), ("LOG_STORE_ORGANISATION_ID", "org-1"), ("LOG_STORE_WORKSPACE_SLUG", "team-a"));
        Assert.Equal("30/org-1/team-a/2026/12/08/01/not-a-uuid.json", LogObjectPath.For(o, "not-a-uuid", Created));
        Assert.Equal("30/org-1/default/2026/12/08/01/x.json",
            LogObjectPath.For(Options(("LOG_STORE_FILE_PATH_FORMAT", "V2"), ("LOG_STORE_ORGANISATION_ID", "org-1")), "x", Created));
    }

    [Fact]
    public void V2_takes_the_hour_from_a_uuidv7_id_so_a_lookup_by_id_finds_the_record()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 12, 7, 10, 59, 59, 999, TimeSpan.Zero));
        var id = TraceIds.NewId(clock);
        var o = Options(("LOG_STORE_FILE_PATH_FORMAT", "v2"), ("LOG_STORE_ORGANISATION_ID", "org-1"));

        // The record is stamped a moment later, in the next hour: the key still follows the id.
        var written = LogObjectPath.For(o, id, clock.GetUtcNow().AddMilliseconds(2));
        Assert.Equal($"30/org-1/default/2026/12/07/10/{id}.json", written);
        Assert.True(LogObjectPath.TryForLogId(o, id, out var looked));
        Assert.Equal(written, looked);
        Assert.Equal(clock.GetUtcNow(), LogObjectPath.TimeOfUuidV7(id));
    }

    [Fact]
    public void Lookup_by_id_works_for_any_id_in_v1_and_only_for_uuidv7_in_v2()
    {
        var v1 = Options();
        Assert.True(LogObjectPath.TryForLogId(v1, "client-trace-42", out var key));
        Assert.Equal($"30/{LogObjectStoreOptions.DefaultOrganisationId}/client-trace-42.json", key);

        var v2 = Options(("LOG_STORE_FILE_PATH_FORMAT", "v2"));
        Assert.False(LogObjectPath.TryForLogId(v2, "client-trace-42", out _));
        Assert.False(LogObjectPath.TryForLogId(v2, Guid.NewGuid().ToString(), out _)); // v4: no time in it
        Assert.False(LogObjectPath.TryForLogId(v1, "", out _));
    }

    [Fact]
    public void Uuidv7_time_is_the_first_48_bits()
    {
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(0x0193_9A8B_C0DE), LogObjectPath.TimeOfUuidV7("01939a8b-c0de-7abc-8def-0123456789ab"));
        Assert.Null(LogObjectPath.TimeOfUuidV7("01939a8b-c0de-4abc-8def-0123456789ab")); // version 4
        Assert.Null(LogObjectPath.TimeOfUuidV7("01939a8b-c0de-7abc-cdef-0123456789ab")); // not the RFC variant
        Assert.Null(LogObjectPath.TimeOfUuidV7("01939a8bc0de7abc8def0123456789ab")); // not the hyphenated form ids take
        Assert.Equal(LogObjectPath.TimeOfUuidV7(Guid.CreateVersion7(new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero)).ToString()),
            new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero));
    }

    [Fact]
    public void The_base_path_is_a_prefix_inside_the_bucket()
    {
        var o = Options(("LOG_STORE", "s3"), ("LOG_STORE_REGION", "us-east-1"), ("LOG_STORE_GENERATIONS_BUCKET", "b"),
            ("LOG_STORE_ACCESS_KEY", "k"), ("LOG_STORE_SECRET_KEY", "s"), ("LOG_STORE_BASEPATH", "/gateway/prod/"));
        Assert.Equal("gateway/prod/", o.KeyPrefix);
        Assert.Equal($"gateway/prod/30/{LogObjectStoreOptions.DefaultOrganisationId}/id.json", LogObjectPath.For(o, "id", Created));
    }

    [Theory]
    [InlineData("a/b", "a%2Fb")]
    [InlineData("../../etc", "%2E%2E%2F%2E%2E%2Fetc")]
    [InlineData("..", "%2E%2E")]
    [InlineData("trace id ☃", "trace%20id%20%E2%98%83")]
    [InlineData("ok.id_-1", "ok.id_-1")]
    public void A_log_id_is_one_key_segment_whatever_the_client_chose(string id, string segment)
    {
        Assert.Equal($"30/{LogObjectStoreOptions.DefaultOrganisationId}/{segment}.json", LogObjectPath.For(Options(), id, Created));
    }

    [Fact]
    public void An_empty_or_oversized_id_is_refused()
    {
        Assert.Throws<ArgumentException>(() => LogObjectPath.For(Options(), "", Created));
        Assert.Throws<ArgumentException>(() => LogObjectPath.For(Options(), new string('/', 200), Created));
    }
}
