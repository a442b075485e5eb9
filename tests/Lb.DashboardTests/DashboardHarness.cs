using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Lb.TestSupport;
using Microsoft.Playwright;

namespace Lb.DashboardTests;

/// <summary>
/// <c>Lb.Server serve</c> as a separate process on 127.0.0.1 port 0 (the ports are read back from its
/// "lb: listening on" lines: proxy first, admin second), with clients for both listeners.
/// </summary>
internal sealed class LbProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output;
    private readonly TempDirectory _dir;

    private LbProcess(Process process, StringBuilder output, TempDirectory dir, Uri proxy, Uri admin)
    {
        _process = process;
        _output = output;
        _dir = dir;
        ProxyUri = proxy;
        AdminUri = admin;
        Proxy = new HttpClient(new SocketsHttpHandler { UseCookies = false }) { BaseAddress = proxy, Timeout = TimeSpan.FromSeconds(10) };
        Admin = new HttpClient { BaseAddress = admin, Timeout = TimeSpan.FromSeconds(10) };
    }

    public Uri ProxyUri { get; }

    public Uri AdminUri { get; }

    public HttpClient Proxy { get; }

    public HttpClient Admin { get; }

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static async Task<LbProcess> StartAsync(string extraAppJson = "", string nodeId = "dash-1")
    {
        var dir = new TempDirectory();
        await File.WriteAllTextAsync(Path.Combine(dir.Path, "app.json"),
            $$"""{"proxyListenAddr":"127.0.0.1:0","dashboardListenAddr":"127.0.0.1:0","raftDataDir":"state","nodeId":"{{nodeId}}"{{extraAppJson}}}""");
        var info = new ProcessStartInfo("dotnet") { WorkingDirectory = dir.Path, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(RepoPaths.BuiltDll(Path.Combine("samples", "Lb.Server"), "lb.dll"));
        info.ArgumentList.Add("serve");
        info.ArgumentList.Add("app.json");
        info.ArgumentList.Add("--log-level");
        info.ArgumentList.Add("warning");
        var process = Process.Start(info)!;
        var output = new StringBuilder();
        var listening = new List<Uri>();
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            lock (output)
            {
                output.AppendLine(e.Data);
                const string prefix = "lb: listening on ";
                if (e.Data?.StartsWith(prefix, StringComparison.Ordinal) == true)
                {
                    listening.Add(new Uri(e.Data[prefix.Length..]));
                    if (listening.Count == 2)
                    {
                        ready.TrySetResult();
                    }
                }
            }
        };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.Exited += (_, _) => ready.TrySetException(new InvalidOperationException("Lb.Server exited: " + output));
        process.EnableRaisingEvents = true;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await ready.Task.WaitAsync(TimeSpan.FromSeconds(60));
        }
        catch
        {
            process.Kill();
            process.Dispose();
            dir.Dispose();
            throw;
        }
        return new LbProcess(process, output, dir, listening[0], listening[1]);
    }

    /// <summary>
    /// PUTs a configuration (no version: last write wins). A cluster that is between leaders answers 503 and the
    /// write may or may not have been applied; like an operator, the setup tries again for a while.
    /// </summary>
    public async Task<long> PutConfigAsync(string json, string? token = null)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            using var request = new HttpRequestMessage(HttpMethod.Put, "/api/config") { Content = new StringContent(json, Encoding.UTF8, "application/json") };
            if (token is not null)
            {
                request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
            }
            using var response = await Admin.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            if (response.StatusCode == System.Net.HttpStatusCode.ServiceUnavailable && deadline.Elapsed < TimeSpan.FromSeconds(20))
            {
                await Task.Delay(200);
                continue;
            }
            Assert.True(response.IsSuccessStatusCode, $"PUT /api/config answered {(int)response.StatusCode}: {body}");
            return JsonNode.Parse(body)!["version"]!.GetValue<long>();
        }
    }

    public async Task<long> VersionAsync() => (await Admin.GetFromJsonAsync<JsonObject>("/api/config"))!["version"]!.GetValue<long>();

    /// <summary>GET through the proxy with a Host header; returns the answering backend's name (X-Backend) or the status.</summary>
    public async Task<string> WhoAnswersAsync(string host, string path = "/api/info")
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Host = host;
        using var response = await Proxy.SendAsync(request);
        return response.Headers.TryGetValues("X-Backend", out var names) ? names.Single() : $"status {(int)response.StatusCode}";
    }

    public async ValueTask DisposeAsync()
    {
        Proxy.Dispose();
        Admin.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
        _dir.Dispose();
    }
}

/// <summary>
/// Playwright driving Debian's Chromium at <c>/usr/bin/chromium</c> (installed by ./test.sh; Playwright's own browser
/// downloads are never used). Collects console errors and uncaught page errors so tests can assert there are none.
/// </summary>
internal sealed class BrowserSession : IAsyncDisposable
{
    public const string ChromiumPath = "/usr/bin/chromium";

    private readonly IPlaywright _playwright;
    private readonly IBrowser _browser;

    private BrowserSession(IPlaywright playwright, IBrowser browser, IBrowserContext context, IPage page)
    {
        _playwright = playwright;
        _browser = browser;
        Context = context;
        Page = page;
    }

    public IBrowserContext Context { get; }

    public IPage Page { get; }

    /// <summary>Console messages of type error and uncaught exceptions, in order.</summary>
    public List<string> Errors { get; } = [];

    public static async Task<BrowserSession> OpenAsync(Uri admin, int width = 1400, int height = 1000)
    {
        Assert.True(File.Exists(ChromiumPath), $"{ChromiumPath} is missing: run ./test.sh (it installs Debian's chromium package) or apt-get install -y chromium");
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
        });
        var context = await browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = admin.ToString(),
            ViewportSize = new ViewportSize { Width = width, Height = height },
            Locale = "en-GB",
            TimezoneId = "UTC",
        });
        context.SetDefaultTimeout(10_000);
        var page = await context.NewPageAsync();
        var session = new BrowserSession(playwright, browser, context, page);
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                lock (session.Errors)
                {
                    session.Errors.Add($"console: {message.Text} ({message.Location})");
                }
            }
        };
        page.PageError += (_, error) =>
        {
            lock (session.Errors)
            {
                session.Errors.Add("page error: " + error);
            }
        };
        await page.GotoAsync("/");
        return session;
    }

    /// <summary>
    /// No console errors and no uncaught exceptions. Chromium also logs every HTTP error status a fetch gets as a
    /// console error ("Failed to load resource: ... status of 422"); the statuses in <paramref name="expectedStatuses"/>
    /// are answers the test provoked on purpose (a validation error, a version conflict) and are not script errors.
    /// </summary>
    public void AssertNoErrors(params int[] expectedStatuses)
    {
        List<string> errors;
        lock (Errors)
        {
            errors = Errors.Where(e => !expectedStatuses.Any(s => e.Contains($"Failed to load resource: the server responded with a status of {s} ", StringComparison.Ordinal))).ToList();
        }
        Assert.True(errors.Count == 0, "errors in the page:\n" + string.Join("\n", errors));
    }

    public async ValueTask DisposeAsync()
    {
        await Context.CloseAsync();
        await _browser.CloseAsync();
        _playwright.Dispose();
    }
}

internal static class Wait
{
    /// <summary>Polls <paramref name="condition"/> every 100 ms until it holds or <paramref name="seconds"/> pass.</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, double seconds, string what)
    {
        var deadline = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(seconds), $"timed out after {seconds} s waiting for {what}");
            await Task.Delay(100);
        }
    }
}
