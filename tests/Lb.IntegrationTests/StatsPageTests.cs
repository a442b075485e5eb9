using System.Net;
using System.Text;
using Lb.TestSupport;

namespace Lb.IntegrationTests;

/// <summary><c>/stats</c> and <c>/stats;csv</c> on the admin listener: routes, pools and targets with live state and counters.</summary>
public sealed class StatsPageTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static Dictionary<string, string> Row(string csv, string type, string name)
    {
        var lines = csv.TrimEnd('\n').Split('\n');
        var columns = lines[0].TrimStart('#', ' ').Split(',');
        var row = lines.Skip(1).Select(l => l.Split(',')).Single(cells => cells[0] == type && (cells[1] == name || cells[3] == name || (type == "pool" && cells[2] == name)));
        return columns.Zip(row).ToDictionary(p => p.First, p => p.Second);
    }

    [Fact]
    public async Task Csv_and_html_show_each_route_pool_and_target_with_state_check_sessions_and_status_classes()
    {
        await using var up = await TestBackend.StartAsync("up");
        await using var down = await TestBackend.StartAsync("down");
        down.HealthStatus = 503;
        await using var lb = await LbServer.StartAsync();
        await lb.PutConfigAsync("{\"routes\":[{\"id\":\"web\",\"enabled\":true,\"match\":{\"hosts\":[\"stats.test\"]},\"upstream_pool\":\"pool\"}],"
            + "\"upstream_pools\":{\"pool\":{\"upstreams\":[\"" + up.Address + "\",\"" + down.Address + "\"],"
            + "\"health_check\":{\"path\":\"/health\",\"interval\":\"1s\",\"timeout\":\"900ms\",\"expect_status\":200}}}}");
        // Wait for the first verdicts (a bound, not a speed requirement).
        for (var i = 0; i < 100 && !(await lb.Admin.GetStringAsync("/stats;csv", Ct)).Contains("unexpected status: 503", StringComparison.Ordinal); i++)
        {
            await Task.Delay(100, Ct);
        }
        for (var i = 0; i < 3; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, i == 2 ? "/status/404" : "/api/info");
            request.Headers.Host = "stats.test";
            using var response = await lb.Proxy.SendAsync(request, Ct);
        }

        var csv = await lb.Admin.GetStringAsync("/stats;csv", Ct);
        Assert.StartsWith("# type,route,pool,target,status,", csv, StringComparison.Ordinal);
        var route = Row(csv, "route", "web");
        Assert.Equal(("OPEN", "pool", "round_robin", "3", "2", "1"), (route["status"], route["pool"], route["algorithm"], route["req_tot"], route["hrsp_2xx"], route["hrsp_4xx"]));
        var pool = Row(csv, "pool", "pool");
        Assert.Equal(("UP 1/2", "3"), (pool["status"], pool["req_tot"]));
        var healthy = Row(csv, "target", up.Address);
        Assert.Equal(("UP", "ok", "1", "3", "2", "1", "0"), (healthy["status"], healthy["check_status"], healthy["smax"], healthy["req_tot"], healthy["hrsp_2xx"], healthy["hrsp_4xx"], healthy["scur"]));
        Assert.NotEqual("", healthy["check_duration_ms"]);
        var failing = Row(csv, "target", down.Address);
        Assert.Equal(("DOWN", "unexpected status: 503", "0"), (failing["status"], failing["check_status"], failing["req_tot"]));
        // The same table through ?format=csv (a check may have run in between, so compare the header and the rows' keys).
        static string[] Keys(string table) => table.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => string.Join(',', line.Split(',').Take(4))).ToArray();
        var viaQuery = await lb.Admin.GetStringAsync("/stats?format=csv", Ct);
        Assert.Equal(csv[..csv.IndexOf('\n')], viaQuery[..viaQuery.IndexOf('\n')]);
        Assert.Equal(Keys(csv), Keys(viaQuery));

        using (await lb.Admin.PutAsync($"/api/pools/pool/targets/{up.Address}/state", new StringContent("""{"state":"drain"}""", Encoding.UTF8, "application/json"), Ct))
        {
        }
        Assert.Equal("DRAIN", Row(await lb.Admin.GetStringAsync("/stats;csv", Ct), "target", up.Address)["status"]);

        using var html = await lb.Admin.GetAsync("/stats", Ct);
        Assert.Equal(HttpStatusCode.OK, html.StatusCode);
        Assert.Equal("text/html", html.Content.Headers.ContentType!.MediaType);
        var page = await html.Content.ReadAsStringAsync(Ct);
        Assert.Contains("<meta http-equiv=\"refresh\"", page, StringComparison.Ordinal);
        Assert.Contains($"<td>{up.Address}</td><td>DRAIN</td>", page, StringComparison.Ordinal);
        Assert.Contains("<td>unexpected status: 503</td>", page, StringComparison.Ordinal);
    }
}
