"""vpbx Chalice app: thin; every feature is a blueprint in chalicelib."""

from chalice import Chalice

from chalicelib import api, billing_api, explain, features, media_events, stats_api, webapp, webhooks
from chalicelib.api import users as users_api
from chalicelib.api import users_me as users_me_api

app = Chalice(app_name="vpbx")
app.register_blueprint(webhooks.bp)
app.register_blueprint(media_events.bp)
app.register_blueprint(users_api.bp)
app.register_blueprint(users_me_api.bp)  # a person's own calls and voicemail (issue 8)
app.register_blueprint(webapp.bp)
app.register_blueprint(explain.bp)
app.register_blueprint(features.bp)
api.register(app)  # tenant configuration API (/api/v1/tenants/{tenant}/...)
app.register_blueprint(stats_api.bp)  # statistics, CDRs, live view (issue 5)
app.register_blueprint(billing_api.bp)  # invoices (issue 5)
from chalicelib.projections import stream_consumer  # noqa: E402

app.register_blueprint(stream_consumer.bp)  # projections from the events table's stream on AWS (issue 5)
from chalicelib import widget  # noqa: E402
from chalicelib.callcenter import api as callcenter_api  # noqa: E402
from chalicelib.callcenter import webhooks as callcenter_webhooks  # noqa: E402

app.register_blueprint(callcenter_webhooks.bp)  # call center gateway webhooks (issue 4)
app.register_blueprint(callcenter_api.bp)  # click-to-call, presence, supervision (issue 4)
app.register_blueprint(widget.bp)  # website callback widget (issue 4)


@app.route("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}
