<#-- Tessera push waiting page: re-submits itself (resources/js/tessera-push.js; without script the
     "I approved it" button) until Tessera accepts, and takes a code instead. Same markup rules as
     tessera-otp.ftl. -->
<#import "template.ftl" as layout>
<@layout.registrationLayout displayMessage=true; section>
    <#if section = "header">
        ${msg("tesseraPushTitle")}
    <#elseif section = "form">
        <form id="kc-tessera-push-poll" class="${properties.kcFormClass!}" action="${url.loginAction}" method="post">
            <input type="hidden" name="tessera-push-poll" value="1"/>
            <p id="tessera-push-hint" class="${properties.kcLabelWrapperClass!}">${msg("tesseraPushHint")}</p>
            <#if tesseraPushNumber??>
                <p class="${properties.kcLabelWrapperClass!}">${msg("tesseraPushNumberLabel")}</p>
                <p id="tessera-push-number" class="${properties.kcLabelWrapperClass!}" style="font-size: 2.5em; font-weight: bold;">${tesseraPushNumber}</p>
            </#if>
            <noscript>
                <div class="${properties.kcFormGroupClass!}">
                    <button id="tessera-push-approved" type="submit"
                            class="${properties.kcButtonClass!} ${properties.kcButtonPrimaryClass!} ${properties.kcButtonBlockClass!}">${msg("tesseraPushApproved")}</button>
                </div>
            </noscript>
        </form>
        <form id="kc-tessera-push-code" class="${properties.kcFormClass!}" action="${url.loginAction}" method="post">
            <div class="${properties.kcFormGroupClass!}">
                <div class="${properties.kcLabelWrapperClass!}">
                    <label for="otp" class="${properties.kcLabelClass!}">${msg("tesseraPushCodeLabel")}</label>
                </div>
                <div class="${properties.kcInputWrapperClass!}">
                    <input id="otp" name="otp" type="text" class="${properties.kcInputClass!}"
                           autocomplete="one-time-code" inputmode="numeric"/>
                </div>
            </div>
            <div class="${properties.kcFormGroupClass!}">
                <div id="kc-form-buttons" class="${properties.kcFormButtonsClass!}">
                    <input class="${properties.kcButtonClass!} ${properties.kcButtonDefaultClass!} ${properties.kcButtonBlockClass!}"
                           name="login" id="tessera-push-use-code" type="submit" value="${msg("tesseraPushUseCode")}"/>
                </div>
            </div>
        </form>
        <script src="${url.resourcesPath}/js/tessera-push.js" defer></script>
    </#if>
</@layout.registrationLayout>
