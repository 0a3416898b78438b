"""template.yaml, transformed by samtranslator: the HTTP API is behind a JWT authorizer by default, only /health,
/openapi.json and (with PublicReads) the read routes go without, and the local gateway and the API agree with it."""
from __future__ import annotations

import re
from typing import Any

import pytest

from api import routes
from core import config
from local import authorizer
from tests.support.template import of_type, source, transformed

NO_VALUE = {"Ref": "AWS::NoValue"}


def _resolved(value: Any, conditions: dict[str, bool]) -> Any:
    """What CloudFormation makes of a fragment once it has evaluated these conditions."""
    if isinstance(value, dict):
        if set(value) in ({"Fn::If"}, {"If"}):  # transformed, or as local.tables reads the source
            name, when_true, when_false = next(iter(value.values()))
            return _resolved(when_true if conditions[name] else when_false, conditions)
        resolved = {key: _resolved(item, conditions) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item != NO_VALUE}
    if isinstance(value, list):
        return [_resolved(item, conditions) for item in value if _resolved(item, conditions) != NO_VALUE]
    return value


def api_body() -> dict[str, Any]:
    (http_api,) = of_type(transformed(), "AWS::ApiGatewayV2::Api").values()
    return http_api["Properties"]["Body"]


def deployed_routes(public_reads: bool) -> dict[tuple[str, str], dict[str, Any]]:
    """Every route the deployed API has, as method and path, with its operation, for this PublicReads value."""
    paths = _resolved(api_body()["paths"], {"ReadsArePublic": public_reads})
    return {(method.upper(), path): operation for path, item in paths.items() for method, operation in item.items()}


OWN_POOL_ISSUER = {"Fn::Sub": "https://cognito-idp.${AWS::Region}.amazonaws.com/${UserPool}"}


@pytest.mark.parametrize("own_pool", [True, False])
def test_the_api_trusts_the_stacks_own_user_pool_or_the_issuer_the_deployer_names(own_pool):
    schemes = _resolved(api_body()["components"]["securitySchemes"], {"OwnUserPool": own_pool})
    expected = ({"issuer": OWN_POOL_ISSUER, "audience": [{"Ref": "PageClient"}]} if own_pool
                else {"issuer": {"Ref": "AuthIssuer"}, "audience": {"Ref": "AuthAudience"}})
    assert schemes == {"TurnoutJwt": {"type": "oauth2", "x-amazon-apigateway-authorizer": {
        "type": "jwt", "identitySource": "$request.header.Authorization", "jwtConfiguration": expected}}}
    parameters = source()["Parameters"]
    # Empty by default: the stack's own user pool. Naming an issuer is the way to bring another provider.
    assert parameters["AuthIssuer"]["Default"] == "" and parameters["AuthAudience"]["Default"] == ""
    assert transformed()["Conditions"]["OwnUserPool"] == {"Fn::Equals": [{"Ref": "AuthIssuer"}, ""]}
    assert parameters["AuthAudience"]["Type"] == "CommaDelimitedList"
    issuer = parameters["AuthIssuer"]["AllowedPattern"]
    assert re.fullmatch(issuer, "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf123")
    assert re.fullmatch(issuer, "") and not re.fullmatch(issuer, "http://idp.example.com")


@pytest.mark.parametrize("public_reads", [False, True])
def test_every_route_but_the_public_ones_goes_through_the_authorizer(public_reads):
    deployed = deployed_routes(public_reads)
    assert deployed[("X-AMAZON-APIGATEWAY-ANY-METHOD", "/$default")]["security"] == [{"TurnoutJwt": []}]
    public = {route for route, operation in deployed.items() if operation["security"] == [{"NONE": []}]}
    assert public | {("X-AMAZON-APIGATEWAY-ANY-METHOD", "/$default")} == set(deployed)
    expected = authorizer.PUBLIC_ROUTES + (authorizer.PUBLIC_READ_ROUTES if public_reads else ())
    # The local gateway's authorizer leaves open exactly what the deployed API does...
    assert public == set(expected)
    # ...and those are the routes the API itself lets anyone call under the same setting.
    open_in_api = {(r.method, r.template) for r in routes.ROUTES
                   if r.access == routes.PUBLIC or (r.access == routes.READ and public_reads)}
    assert public == open_in_api


def test_secure_by_default_reads_need_a_token_unless_the_deployer_says_otherwise():
    parameter = source()["Parameters"]["PublicReads"]
    assert (parameter["Default"], parameter["AllowedValues"]) == ("false", ["true", "false"])
    assert transformed()["Conditions"]["ReadsArePublic"] == {"Fn::Equals": [{"Ref": "PublicReads"}, "true"]}
    assert set(deployed_routes(False)) == {("X-AMAZON-APIGATEWAY-ANY-METHOD", "/$default"),
                                           ("GET", "/health"), ("GET", "/openapi.json"),
                                           ("GET", "/"), ("GET", "/web/{version}/{file}"),
                                           ("GET", "/feeds/{feed}")}  # a calendar app sends no token


def test_the_public_routes_reach_the_same_function_alias_as_default():
    deployed = deployed_routes(True)
    default = deployed[("X-AMAZON-APIGATEWAY-ANY-METHOD", "/$default")]["x-amazon-apigateway-integration"]
    for route, operation in deployed.items():
        integration = operation["x-amazon-apigateway-integration"]
        assert integration == {**default}, route
        assert (integration["type"], integration["payloadFormatVersion"]) == ("aws_proxy", "2.0")
    assert "ApiFunctionAliaslive" in default["uri"]["Fn::Sub"]
    # The $default route's permission lets API Gateway invoke the alias for any route and stage.
    permission = transformed()["Resources"]["ApiFunctionAnyPermission"]["Properties"]
    assert permission["FunctionName"] == {"Ref": "ApiFunctionAliaslive"}
    assert permission["SourceArn"]["Fn::Sub"][0].endswith("${__ApiId__}/${__Stage__}/*")
    assert permission["SourceArn"]["Fn::Sub"][1]["__Stage__"] == "*"


SIGN_IN_VARIABLES = ("TURNOUT_AUTH_ISSUER", "TURNOUT_AUTH_CLIENT_ID", "TURNOUT_SIGN_IN_URL", "TURNOUT_USER_POOL_ID")


@pytest.mark.parametrize("own_pool", [True, False])
def test_the_page_is_told_the_issuer_and_client_the_authorizer_trusts(own_pool):
    variables = transformed()["Resources"]["ApiFunction"]["Properties"]["Environment"]["Variables"]
    told = _resolved({name: variables[name] for name in SIGN_IN_VARIABLES}, {"OwnUserPool": own_pool})
    trusted = _resolved(api_body()["components"]["securitySchemes"], {"OwnUserPool": own_pool})
    configuration = trusted["TurnoutJwt"]["x-amazon-apigateway-authorizer"]["jwtConfiguration"]
    assert told["TURNOUT_AUTH_ISSUER"] == configuration["issuer"]
    if own_pool:
        assert [told["TURNOUT_AUTH_CLIENT_ID"]] == configuration["audience"] == [{"Ref": "PageClient"}]
        assert told["TURNOUT_SIGN_IN_URL"] == {
            "Fn::Sub": "https://${SignInDomain}.auth.${AWS::Region}.amazoncognito.com"}
        assert told["TURNOUT_USER_POOL_ID"] == {"Ref": "UserPool"}
    else:
        assert told["TURNOUT_AUTH_CLIENT_ID"] == {"Fn::Select": [0, {"Ref": "AuthAudience"}]}
        assert told["TURNOUT_SIGN_IN_URL"] == told["TURNOUT_USER_POOL_ID"] == ""


def test_the_function_reads_the_callers_claims_as_the_template_configures_them():
    parameters = source()["Parameters"]
    variables = source()["Resources"]["ApiFunction"]["Properties"]["Environment"]["Variables"]
    claims = {name: variables.pop(name) for name in list(variables) if name not in SIGN_IN_VARIABLES}
    assert claims == {"TURNOUT_PUBLIC_READS": {"Ref": "PublicReads"},
                      "TURNOUT_PERSON_CLAIM": {"Ref": "PersonClaim"},
                      "TURNOUT_GROUP_CLAIM": {"Ref": "GroupClaim"},
                      "TURNOUT_ORGANIZER_GROUP": {"Ref": "OrganizerGroup"}}
    # The template's defaults are core.config's, so the local stack and a default deployment read the same claims.
    defaults = config.load()
    assert (parameters["PersonClaim"]["Default"], parameters["GroupClaim"]["Default"],
            parameters["OrganizerGroup"]["Default"]) == (defaults.person_claim, defaults.group_claim,
                                                          defaults.organizer_group)
    # Open mode is not something a deployment can ask for: the function never gets TURNOUT_AUTH.
    function = transformed()["Resources"]["ApiFunction"]["Properties"]
    assert "TURNOUT_AUTH" not in function["Environment"]["Variables"]


@pytest.mark.parametrize("origin", ["", "https://turnout.example.com"])
def test_cors_is_off_for_the_page_the_api_serves_itself_and_allows_exactly_one_other_origin(origin):
    parameter = source()["Parameters"]["PageOrigin"]
    assert parameter["Default"] == "" and re.fullmatch(parameter["AllowedPattern"], origin)
    assert not re.fullmatch(parameter["AllowedPattern"], "*") and not re.fullmatch(parameter["AllowedPattern"], "http://x")
    conditions = {"HasPageOrigin": bool(origin), "ReadsArePublic": False, "OwnUserPool": True}
    cors = _resolved(api_body(), conditions).get("x-amazon-apigateway-cors")
    if not origin:
        # Same origin: the page at / calls the API it came from, which a browser allows without CORS.
        assert cors is None
    else:
        assert cors["allowOrigins"] == [{"Ref": "PageOrigin"}]
        assert {"authorization", "content-type"} <= set(cors["allowHeaders"])
