"""template.yaml's accounts: the user pool, its organizers group, the page's public client (its settings applied by
the template's own custom resource, run here against moto's Cognito), the managed sign-in domain, and the pre-sign-up
trigger that keeps user names to handles. moto's CloudFormation cannot create user pools, so this is checked offline."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import boto3
import pytest
from moto import mock_aws

from accounts import handler as sign_up_check
from core import config
from tests.support.template import source, transformed

OWN_POOL = ("UserPool", "OrganizersGroup", "PageClient", "PageClientSettings", "PageClientSettingsFunction",
            "PageClientSettingsRole", "PageClientSettingsFunctionLogs", "SignInDomain", "SignInBranding",
            "SignUpCheckFunction", "SignUpCheckPermission", "SignUpCheckFunctionLogs")


def resource(name: str) -> dict:
    return source()["Resources"][name]


def test_every_accounts_resource_exists_only_without_an_issuer_of_the_deployers_own():
    for name in OWN_POOL:
        assert resource(name)["Condition"] == "OwnUserPool", name
    for name in ("UserPoolId", "PageClientId", "SignInUrl"):
        assert source()["Outputs"][name]["Condition"] == "OwnUserPool", name


def test_people_sign_themselves_up_confirm_their_email_and_the_pool_is_kept():
    pool = resource("UserPool")
    assert (pool["DeletionPolicy"], pool["UpdateReplacePolicy"]) == ("Retain", "Retain")
    properties = pool["Properties"]
    assert properties["DeletionProtection"] == "ACTIVE"
    assert properties["AdminCreateUserConfig"] == {"AllowAdminCreateUserOnly": False}
    assert properties["AutoVerifiedAttributes"] == ["email"]
    assert properties["VerificationMessageTemplate"] == {"DefaultEmailOption": "CONFIRM_WITH_CODE"}
    assert properties["AccountRecoverySetting"]["RecoveryMechanisms"] == [{"Name": "verified_email", "Priority": 1}]
    assert {"Name": "email", "AttributeDataType": "String", "Required": True, "Mutable": True} in properties["Schema"]
    # A user name, not an email address, names the account: it is the person's handle.
    assert "UsernameAttributes" not in properties and "AliasAttributes" not in properties
    assert properties["UsernameConfiguration"] == {"CaseSensitive": False}
    password = properties["Policies"]["PasswordPolicy"]
    assert password["MinimumLength"] >= 12


def test_a_user_name_is_checked_at_sign_up_by_cores_handle_pattern():
    assert resource("UserPool")["Properties"]["LambdaConfig"] == {"PreSignUp": {"Ref": "SignUpCheckFunction.Alias"}}
    permission = resource("SignUpCheckPermission")["Properties"]
    assert permission["Principal"] == "cognito-idp.amazonaws.com"
    assert permission["SourceArn"] == {"GetAtt": "UserPool.Arn"}
    assert permission["FunctionName"] == {"Ref": "SignUpCheckFunction.Alias"}
    assert resource("SignUpCheckFunction")["Properties"]["Handler"] == "accounts.handler.lambda_handler"


def _pre_sign_up(user_name: str) -> dict:
    return {"version": "1", "triggerSource": "PreSignUp_SignUp", "region": "us-east-1", "userPoolId": "us-east-1_X",
            "userName": user_name, "callerContext": {"clientId": "c"},
            "request": {"userAttributes": {"email": "melvin@example.com"}},
            "response": {"autoConfirmUser": False, "autoVerifyEmail": False, "autoVerifyPhone": False}}


@pytest.mark.parametrize("user_name", ["melvin", "anna-b", "x", "a" * 40])
def test_the_trigger_lets_a_handle_sign_up_and_changes_nothing(user_name):
    event = _pre_sign_up(user_name)
    # Cognito reads the answer's response: confirming is still the person's, by the code in their email.
    assert sign_up_check.lambda_handler(event, None) == _pre_sign_up(user_name)


@pytest.mark.parametrize("user_name", ["Melvin", "melvin@example.com", "-melvin", "melvin-", "a" * 41, "mel vin",
                                       "", "m\u00e9lvin"])
def test_the_trigger_refuses_any_other_user_name_in_words(user_name):
    with pytest.raises(sign_up_check.NotAHandle, match="lowercase letters, digits and '-'"):
        sign_up_check.lambda_handler(_pre_sign_up(user_name), None)


def test_the_organizers_group_is_the_one_the_api_reads():
    group = resource("OrganizersGroup")["Properties"]
    assert group["UserPoolId"] == {"Ref": "UserPool"} and group["GroupName"] == {"Ref": "OrganizerGroup"}
    assert source()["Parameters"]["OrganizerGroup"]["Default"] == config.load().organizer_group


def test_the_page_client_is_public_and_signs_in_with_the_code_grant_and_pkce_at_the_apis_own_page():
    client = resource("PageClient")["Properties"]
    assert client["GenerateSecret"] is False
    settings = resource("PageClientSettings")["Properties"]
    page = {"Sub": "https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/"}
    assert settings["CallbackURLs"] == settings["LogoutURLs"] == [page]
    # The API's own /, which serves the page: exactly the ApiUrl output, plus "/".
    assert transformed()["Outputs"]["ApiUrl"]["Value"]["Fn::Sub"] + "/" == page["Sub"]
    assert settings["AllowedOAuthFlowsUserPoolClient"] is True and settings["AllowedOAuthFlows"] == ["code"]
    assert "openid" in settings["AllowedOAuthScopes"]
    assert settings["SupportedIdentityProviders"] == ["COGNITO"]
    # Cognito requires PKCE of a public client's code grant; refresh tokens for the page's silent renewal.
    assert set(settings["ExplicitAuthFlows"]) == {"ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"}
    assert settings["PreventUserExistenceErrors"] == "ENABLED" and settings["EnableTokenRevocation"] is True
    assert (settings["AccessTokenValidity"], settings["TokenValidityUnits"]["AccessToken"]) == (60, "minutes")
    assert (settings["RefreshTokenValidity"], settings["TokenValidityUnits"]["RefreshToken"]) == (30, "days")


def test_managed_login_is_on_a_domain_the_stack_names():
    domain = resource("SignInDomain")["Properties"]
    assert domain["Domain"] == {"Sub": "${AWS::StackName}-${AWS::AccountId}"}
    assert domain["ManagedLoginVersion"] == 2
    assert resource("SignInBranding")["Properties"] == {
        "UserPoolId": {"Ref": "UserPool"}, "ClientId": {"Ref": "PageClient"}, "UseCognitoProvidedValues": True}
    assert resource("UserPool")["Properties"]["UserPoolTier"] == "ESSENTIALS"


class _Responses(BaseHTTPRequestHandler):
    """The pre-signed S3 URL a custom resource answers CloudFormation at."""

    received: list[dict] = []

    def do_PUT(self):
        self.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def response_url():
    server = HTTPServer(("127.0.0.1", 0), _Responses)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Responses.received = []
    yield f"http://127.0.0.1:{server.server_port}/response"
    server.shutdown()
    server.server_close()


def _as_cloudformation_sends(value):
    """Custom resource properties as CloudFormation hands them over: every scalar as text."""
    if isinstance(value, dict):
        return {name: _as_cloudformation_sends(item) for name, item in value.items()}
    if isinstance(value, list):
        return [_as_cloudformation_sends(item) for item in value]
    return str(value).lower() if isinstance(value, bool) else str(value)


@mock_aws
def test_the_custom_resource_applies_the_declared_settings_to_the_client(response_url, monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    idp = boto3.client("cognito-idp", region_name="us-east-1")
    pool = idp.create_user_pool(PoolName="people")["UserPool"]["Id"]
    client = idp.create_user_pool_client(UserPoolId=pool, ClientName="turnout-page", GenerateSecret=False)
    client_id = client["UserPoolClient"]["ClientId"]
    declared = resource("PageClientSettings")["Properties"]
    page = "https://abc123.execute-api.us-east-1.amazonaws.com/"
    properties = {**declared, "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:x",
                  "UserPoolId": pool, "ClientId": client_id, "CallbackURLs": [page], "LogoutURLs": [page]}
    code = resource("PageClientSettingsFunction")["Properties"]["Code"]["ZipFile"]
    namespace: dict = {}
    exec(compile(code, "PageClientSettingsFunction", "exec"), namespace)
    event = {"RequestType": "Create", "ResponseURL": response_url, "StackId": "stack", "RequestId": "r-1",
             "LogicalResourceId": "PageClientSettings", "ResourceType": "Custom::PageClientSettings",
             "ResourceProperties": _as_cloudformation_sends(properties)}
    namespace["handler"](event, None)
    (answer,) = _Responses.received
    assert (answer["Status"], answer["PhysicalResourceId"]) == ("SUCCESS", client_id), answer
    applied = idp.describe_user_pool_client(UserPoolId=pool, ClientId=client_id)["UserPoolClient"]
    assert applied["ClientName"] == "turnout-page" and "ClientSecret" not in applied
    assert (applied["CallbackURLs"], applied["LogoutURLs"]) == ([page], [page])
    assert applied["AllowedOAuthFlows"] == ["code"] and applied["AllowedOAuthFlowsUserPoolClient"] is True
    assert applied["AccessTokenValidity"] == 60 and applied["RefreshTokenValidity"] == 30

    # A failure is told to CloudFormation (which then rolls back), never left to time out.
    namespace["handler"]({**event, "RequestType": "Update",
                          "ResourceProperties": {**event["ResourceProperties"], "ClientId": "nosuchclient"}}, None)
    assert _Responses.received[-1]["Status"] == "FAILED" and "ResourceNotFound" in _Responses.received[-1]["Reason"]
