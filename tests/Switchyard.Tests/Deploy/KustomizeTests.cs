using Xunit;

namespace Switchyard.Tests.Deploy;

/// <summary><c>kubectl kustomize</c> builds, parsed into documents.</summary>
public sealed class KustomizeTests
{
    [Fact]
    public async Task A_fixture_kustomization_builds_into_documents()
    {
        var documents = await Kustomize.BuildAsync("deploy/helm/tests/fixtures/kustomize");

        Assert.Equal(["ConfigMap", "Deployment"], documents.Select(d => (string?)d["kind"]));
        var configMap = documents[0];
        var configMapName = (string?)configMap["metadata"]?["name"] ?? "";
        Assert.StartsWith("kz-settings-", configMapName, StringComparison.Ordinal);
        Assert.Equal("test", (string?)configMap["data"]?["MODE"]);
        var deployment = documents[1];
        Assert.Equal("kz-app", (string?)deployment["metadata"]?["name"]);
        Assert.Equal("fixture-ns", (string?)deployment["metadata"]?["namespace"]);
        Assert.Equal("fixture", (string?)deployment["spec"]?["selector"]?["matchLabels"]?["app.kubernetes.io/part-of"]);
        var container = deployment["spec"]?["template"]?["spec"]?["containers"]?[0];
        Assert.Equal("example/app:4.5.6", (string?)container?["image"]);
        Assert.Equal(configMapName, (string?)container?["envFrom"]?[0]?["configMapRef"]?["name"]);
        Assert.Empty(await ManifestSchema.ValidateAsync(documents));
    }

    [Fact]
    public async Task A_broken_kustomization_throws_with_kubectls_message()
    {
        var dir = Directory.CreateTempSubdirectory("switchyard-kustomize-test-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(dir, "kustomization.yaml"), "resources:\n  - missing.yaml\n");

            var error = await Assert.ThrowsAsync<InvalidOperationException>(() => Kustomize.BuildAsync(dir));

            Assert.Contains("missing.yaml", error.Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
