using Microsoft.AspNetCore.Http;
using Switchyard.Core.Guardrails;
using Switchyard.Core.Security;
using Xunit;
using static Switchyard.Tests.Guardrails.GuardrailKit;

namespace Switchyard.Tests.Guardrails;

public sealed class InlineImageUrlsTests : IAsyncLifetime
{
    private const HookEvent Before = HookEvent.BeforeRequest;
    private static readonly byte[] Png = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3, 4];
    private LoopbackServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = await LoopbackServer.StartAsync(async (ctx, _) =>
        {
            switch (ctx.Request.Path.Value)
            {
                case "/cat.png":
                    ctx.Response.ContentType = "image/png";
                    await ctx.Response.Body.WriteAsync(Png);
                    break;
                case "/photo.webp":
                    ctx.Response.ContentType = "application/octet-stream";
                    await ctx.Response.Body.WriteAsync(Png);
                    break;
                case "/big.png":
                    ctx.Response.ContentType = "image/png";
                    await ctx.Response.Body.WriteAsync(new byte[4096]);
                    break;
                case "/slow.png":
                    try
                    {
                        await Task.Delay(TimeSpan.FromSeconds(5), ctx.RequestAborted);
                    }
                    catch (OperationCanceledException)
                    {
                    }
                    break;
                default:
                    ctx.Response.StatusCode = 404;
                    break;
            }
        });
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private HookContext ChatWithImage(string url) => Context($$$"""
        {"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"what is this?"},{"type":"image_url","image_url":{"url":"{{{url}}}","detail":"low"}}]}]}
        """);

    [Fact]
    public async Task Downloads_and_inlines_openai_image_urls()
    {
        var outcome = await Check("default.inlineImageUrls", "{}").RunAsync(ChatWithImage(_server.Url("/cat.png").ToString()), Before);
        Assert.True(outcome.Verdict);
        Assert.True(outcome.Transformed);
        var image = outcome.TransformedRequest!["messages"]![0]!["content"]![1]!["image_url"]!;
        Assert.Equal("data:image/png;base64," + Convert.ToBase64String(Png), Str(image["url"]));
        Assert.Equal("low", Str(image["detail"]));
        Assert.Equal(1, outcome.Data!["imagesConverted"]!.GetValue<int>());
    }

    [Fact]
    public async Task Anthropic_url_sources_become_base64_sources_with_the_mime_type_from_the_extension()
    {
        var ctx = Context($$$"""
            {"model":"c","max_tokens":5,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"url","url":"{{{_server.Url("/photo.webp")}}}"}}]}]}
            """, "messages");
        var outcome = await Check("default.inlineImageUrls", "{}").RunAsync(ctx, Before);
        var source = outcome.TransformedRequest!["messages"]![0]!["content"]![0]!["source"]!;
        Assert.Equal("base64", Str(source["type"]));
        Assert.Equal("image/webp", Str(source["media_type"]));
        Assert.Equal(Convert.ToBase64String(Png), Str(source["data"]));
    }

    [Fact]
    public async Task Size_time_and_status_limits_are_reported_and_leave_the_url()
    {
        var check = Check("default.inlineImageUrls", """{"maxSizeBytes":1024,"timeoutMs":300}""");
        foreach (var path in (string[])["/big.png", "/slow.png", "/missing.png"])
        {
            var outcome = await check.RunAsync(ChatWithImage(_server.Url(path).ToString()), Before);
            Assert.True(outcome.Verdict);
            Assert.False(outcome.Transformed);
            Assert.Single(outcome.Data!["errors"]!.AsArray());
        }
        var failing = await Check("default.inlineImageUrls", """{"timeoutMs":300,"failOnError":true}""").RunAsync(ChatWithImage(_server.Url("/slow.png").ToString()), Before);
        Assert.False(failing.Verdict);
        Assert.Contains("timed out", failing.Error!.Message);
    }

    [Fact]
    public async Task Urls_refused_by_the_ssrf_rules_are_not_fetched()
    {
        var strict = Services(new CustomHostValidator([]));
        var before = _server.Requests.Count;
        var outcome = await Check("default.inlineImageUrls", "{}", Before, strict).RunAsync(ChatWithImage(_server.Url("/cat.png").ToString()), Before);
        Assert.False(outcome.Transformed);
        Assert.StartsWith("refused", Str(outcome.Data!["errors"]![0]!["error"]));
        Assert.Equal(before, _server.Requests.Count);
        var metadata = await Check("default.inlineImageUrls", "{}").RunAsync(ChatWithImage("http://169.254.169.254/latest/x.png"), Before);
        Assert.StartsWith("refused", Str(metadata.Data!["errors"]![0]!["error"]));
    }

    [Fact]
    public async Task Provider_filter_and_data_urls_are_left_alone()
    {
        var ctx = ChatWithImage(_server.Url("/cat.png").ToString());
        var skipped = await Check("default.inlineImageUrls", """{"providers":["vertex-ai"]}""").RunAsync(ctx, Before);
        Assert.True(Bool(skipped.Data!["skipped"]));
        var inline = await Check("default.inlineImageUrls", "{}").RunAsync(ChatWithImage("data:image/png;base64,AAAA"), Before);
        Assert.False(inline.Transformed);
    }
}
