using System.Text;
using Switchyard.Core.Guardrails.Pii;
using Xunit;

namespace Switchyard.Tests.Guardrails;

public sealed class StreamingRedactorTests
{
    private static readonly PiiDetector Detector = PiiDetector.AllCategories;

    private const string Jwt = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImsxIn0.eyJzdWIiOiJ1c2VyLTEyMyIsIm5hbWUiOiJKYW5lIERvZSIsImVtYWlsIjoiamFuZUBleGFtcGxlLmNvbSIsImlhdCI6MTcwMDAwMDAwMCwiZXhwIjoxNzAwMDAzNjAwfQ.c2lnbmF0dXJlLWJ5dGVzLWdvLWhlcmUtYW5kLXRoZXktYXJlLXF1aXRlLWxvbmctaW5kZWVk";
    private const string ProjectKey = "sk-proj-Abc123Def456Ghi789Jkl012Mno345Pqr678Stu901Vwx234Yz_567-890abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwx";
    private const string Pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\nVTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n-----END RSA PRIVATE KEY-----";

    /// <summary>Realistic pieces: prose, and findings of every category in the spellings people write.</summary>
    private static readonly string[] Prose =
    [
        "Thanks for reaching out.", "Here is the summary you asked for:", "The meeting is on 2024-05-17 at 10:30.", "Order #12345678 shipped.",
        "Please confirm", "and let me know", "if anything is missing.", "Version 1.2.3 fixed it.", "Best regards,", "Dr. Smith (ACME Corp)",
        "Invoice 4111 1111 1111 1112 was rejected.", "Ref 1234 5678 9012 3456", "USA", "NASA and the EU", "I think", "A", "- item one",
        "ratio 3:2", "12:30:45", "Call extension 555-0100 internally.", "room 101", "(see above)", "+ more", "SKU AB-1234",
    ];

    private static readonly string[] Findings =
    [
        "jane.doe+news@mail.example.co.uk", "ops@acme.io", "+1 415 555 0100", "+44 20 7946 0958", "(415) 555-0100", "415-555-0199",
        "07700 900123", "020 7946 0958", "06 12 34 56 78", "4111 1111 1111 1111", "5555-5555-5555-4444", "378282246310005",
        "GB82 WEST 1234 5698 7654 32", "DE89370400440532013000", "123-45-6789", "AB 12 34 56 C", "12345678Z", "130 692 544",
        "2345 6789 0124", "192.168.10.254", "2001:db8::ff00:42:8329", "AKIAIOSFODNN7EXAMPLE", "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
        "xoxb-123456789012-abcdefghij", "Bearer abc123def456ghi789jkl", "sk-ant-api03-abcdefghijklmnopqrstuvwxyz0123",
    ];

    private static readonly string[] LongSecrets = [Jwt, ProjectKey, "Authorization: Bearer " + Jwt, Pem];

    private static readonly string[] Separators = [" ", " ", " ", ", ", ". ", "\n", "\n\n", ": ", " (", ") ", "\t", " - "];

    private static string RandomText(Random random, bool withLongSecrets)
    {
        var sb = new StringBuilder();
        var pieces = random.Next(8, 40);
        for (var i = 0; i < pieces; i++)
        {
            var roll = random.NextDouble();
            if (roll < 0.55) sb.Append(Prose[random.Next(Prose.Length)]);
            else if (roll < 0.93 || !withLongSecrets) sb.Append(Findings[random.Next(Findings.Length)]);
            else sb.Append(LongSecrets[random.Next(LongSecrets.Length)]);
            sb.Append(Separators[random.Next(Separators.Length)]);
        }
        return sb.ToString();
    }

    private static (string Output, int MaxHeld) Stream(string text, Random random, int maxChunk)
    {
        var redactor = new StreamingRedactor(Detector);
        var output = new StringBuilder();
        var maxHeld = 0;
        for (var at = 0; at < text.Length;)
        {
            var size = Math.Min(text.Length - at, random.Next(1, maxChunk + 1));
            output.Append(redactor.Push(text.Substring(at, size)));
            maxHeld = Math.Max(maxHeld, redactor.HeldLength);
            at += size;
        }
        output.Append(redactor.Flush());
        return (output.ToString(), maxHeld);
    }

    [Fact]
    public void Streamed_redaction_equals_whole_text_redaction_for_many_random_texts_and_splits()
    {
        for (var seed = 0; seed < 150; seed++)
        {
            var random = new Random(seed);
            var text = RandomText(random, withLongSecrets: false);
            var expected = Detector.Redact(text);
            foreach (var maxChunk in (int[])[1, 3, 7, 20, 64, 1000])
            {
                var (output, maxHeld) = Stream(text, random, maxChunk);
                if (output != expected)
                {
                    Assert.Fail($"seed {seed}, chunks ≤ {maxChunk}\ninput:    {text}\nexpected: {expected}\nactual:   {output}");
                }
                Assert.True(maxHeld <= 2 * StreamingRedactor.DefaultMaxHold + maxChunk, $"held {maxHeld} characters (seed {seed})");
            }
        }
    }

    [Fact]
    public void Long_secrets_are_redacted_in_streams_too()
    {
        for (var seed = 1000; seed < 1100; seed++)
        {
            var random = new Random(seed);
            var text = RandomText(random, withLongSecrets: true);
            var expected = Detector.Redact(text);
            foreach (var maxChunk in (int[])[2, 9, 40])
            {
                var (output, _) = Stream(text, random, maxChunk);
                if (output != expected)
                {
                    Assert.Fail($"seed {seed}, chunks ≤ {maxChunk}\ninput:    {text}\nexpected: {expected}\nactual:   {output}");
                }
                Assert.DoesNotContain("MIIEow", output);
                Assert.DoesNotContain("eyJhbGci", output);
                Assert.DoesNotContain("sk-proj-Abc", output);
            }
        }
    }

    [Fact]
    public void Plain_prose_is_released_promptly()
    {
        var redactor = new StreamingRedactor();
        var emitted = redactor.Push("Hello there, this is ordinary prose without anything personal in it and it ");
        Assert.Equal("Hello there, this is ordinary prose without anything personal in it and it ", emitted);
        Assert.Equal("", redactor.Push("keeps"));
        Assert.Equal("keeps ", redactor.Push(" "));
        Assert.Equal("going.", redactor.Push("going.") + redactor.Flush());
    }

    [Fact]
    public void Digit_groups_are_held_until_they_can_no_longer_grow()
    {
        var redactor = new StreamingRedactor();
        Assert.Equal("My card is ", redactor.Push("My card is 4111 1111 "));
        Assert.Equal("", redactor.Push("1111 1111"));
        Assert.Equal("[CREDIT_CARD] thanks", redactor.Push(" thanks") + redactor.Flush());
        Assert.Equal(1, redactor.Counts[PiiCategory.CreditCard]);
    }

    [Fact]
    public void A_secret_is_replaced_as_soon_as_it_is_recognised_and_the_rest_is_dropped()
    {
        var redactor = new StreamingRedactor();
        var first = redactor.Push("token " + ProjectKey[..30]);
        Assert.Equal("token [SECRET]", first);
        Assert.Equal("", redactor.Push(ProjectKey[30..]));
        Assert.Equal(" done", redactor.Push(" done") + redactor.Flush());
    }

    [Fact]
    public void An_unterminated_private_key_suppresses_the_rest_of_the_stream()
    {
        var redactor = new StreamingRedactor();
        var output = redactor.Push("here: -----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg") + redactor.Push("kqhkiG9w0BAQEFAASC\nmore") + redactor.Flush();
        Assert.Equal("here: [SECRET]", output);
        Assert.Equal(Detector.Redact("here: -----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\nmore"), output);
    }
}
