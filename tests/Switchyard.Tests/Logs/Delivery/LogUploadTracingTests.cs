using System.Collections.Concurrent;
using System.Diagnostics;
using Xunit;

namespace Switchyard.Tests.Logs.Delivery;

/// <summary>Each store call is a <c>log.upload</c> client span on the <c>Switchyard</c> source, a root, tagged with the store and the key.</summary>
public sealed class LogUploadTracingTests
{
    [Fact]
    public async Task Uploads_are_root_client_spans_with_the_store_the_key_and_the_error_type_on_failure()
    {
        var spans = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Switchyard",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        using var requestSource = new ActivitySource("Switchyard.Tests.Request");
        using var requestListener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == requestSource.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(requestListener);

        await using var bed = new DeliveryTestBed();
        var options = bed.Options with { Writers = 1, RetryAttempts = 1 };
        // A trace id no other test uses: the listener hears every shipper in the test process.
        var record = DeliveryTestBed.Record(42) with { TraceId = "tracing-" + Guid.NewGuid().ToString("N") };
        var key = DeliveryTestBed.Serialize(record).Key;
        // Started and written from inside a request's span: the uploads must still not become its children.
        using (var request = requestSource.StartActivity("request"))
        {
            Assert.NotNull(request);
            var shipper = bed.Create(options);
            bed.Store.FailNext(1);
            shipper.TryWrite(record);
            await bed.Drained(shipper, TimeSpan.FromSeconds(1));
        }

        var uploads = spans.Where(s => Equals(s.GetTagItem("switchyard.log.key"), key)).OrderBy(s => s.StartTimeUtc).ToList();
        Assert.Equal(2, uploads.Count);
        Assert.All(uploads, s =>
        {
            Assert.Equal("log.upload", s.OperationName);
            Assert.Equal(ActivityKind.Client, s.Kind);
            Assert.Null(s.ParentId);
            Assert.Equal(default, s.ParentSpanId);
            Assert.Equal("test", s.GetTagItem("switchyard.log.store"));
        });
        Assert.Equal("System.Net.Http.HttpRequestException", uploads[0].GetTagItem("error.type"));
        Assert.Equal(ActivityStatusCode.Error, uploads[0].Status);
        Assert.Null(uploads[1].GetTagItem("error.type"));
        Assert.Equal(ActivityStatusCode.Unset, uploads[1].Status);
    }
}
