/* eslint-disable */
import * as types from './graphql';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "mutation Logout { logout }": typeof types.LogoutDocument,
    "\n    mutation SwitchOrganization($tenant: ID!) {\n      switchTenant(tenantId: $tenant) {\n        accessToken\n        refreshToken\n        expiresIn\n      }\n    }\n  ": typeof types.SwitchOrganizationDocument,
    "\n    query MyOrganizations {\n      myOrganizations {\n        role\n        tenant {\n          id\n          name\n          subdomain\n        }\n      }\n    }\n  ": typeof types.MyOrganizationsDocument,
    "\n  mutation Refresh($token: String!) {\n    refreshToken(token: $token) {\n      accessToken\n      refreshToken\n      expiresIn\n    }\n  }\n": typeof types.RefreshDocument,
    "\n  mutation Login($input: LoginInput!) {\n    login(input: $input) {\n      accessToken\n      refreshToken\n      expiresIn\n    }\n  }\n": typeof types.LoginDocument,
    "\n  mutation AcceptInvitation($input: AcceptInvitationInput!) {\n    acceptInvitation(input: $input) {\n      tenant {\n        subdomain\n      }\n      user {\n        email\n      }\n    }\n  }\n": typeof types.AcceptInvitationDocument,
    "\n  query AnalyticsPipelines {\n    pipelines {\n      id\n      name\n      isDefault\n    }\n  }\n": typeof types.AnalyticsPipelinesDocument,
    "\n  query DealReport($pipeline: ID, $from: Date, $to: Date) {\n    dealAnalytics(pipelineId: $pipeline, from: $from, to: $to) {\n      forecast {\n        month\n        count\n        amounts {\n          currency\n          amount\n          weightedAmount\n        }\n      }\n      winRate {\n        won\n        lost\n        byCount\n        byAmount {\n          currency\n          rate\n          wonAmount\n          closedAmount\n        }\n      }\n      salesCycle {\n        deals\n        averageDays\n        medianDays\n      }\n      stageConversion {\n        stage {\n          name\n        }\n        entered\n        advanced\n        rate\n      }\n      timeInStage {\n        stage {\n          name\n        }\n        exits\n        averageSeconds\n        medianSeconds\n      }\n    }\n  }\n": typeof types.DealReportDocument,
    "\n  fragment CardFields on Deal {\n    id\n    title\n    position\n    version\n    amount\n    currency\n    probability\n    isRotten\n    stage {\n      id\n    }\n    owner {\n      name\n    }\n  }\n": typeof types.CardFieldsFragmentDoc,
    "\n  query BoardPipelines {\n    pipelines {\n      id\n      name\n      isDefault\n      stages {\n        id\n        name\n        kind\n      }\n    }\n  }\n": typeof types.BoardPipelinesDocument,
    "\n  query BoardDeals($pipeline: ID!, $after: String) {\n    deals(filter: { pipelineId: { eq: $pipeline } }, first: 100, after: $after) {\n      edges {\n        node {\n          ...CardFields\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n": typeof types.BoardDealsDocument,
    "\n  mutation BoardMove($id: ID!, $stage: ID!, $before: ID) {\n    moveDeal(id: $id, stageId: $stage, beforeId: $before) {\n      ...CardFields\n    }\n  }\n": typeof types.BoardMoveDocument,
    "\n  mutation BoardCloseLost($id: ID!, $reason: String) {\n    closeDeal(id: $id, outcome: LOST, lostReason: $reason) {\n      ...CardFields\n    }\n  }\n": typeof types.BoardCloseLostDocument,
    "\n  mutation BoardCreate($input: CreateDealInput!) {\n    createDeal(input: $input) {\n      ...CardFields\n    }\n  }\n": typeof types.BoardCreateDocument,
    "\n  subscription BoardChanges($pipeline: ID, $after: ID) {\n    dealChanged(pipelineId: $pipeline, after: $after) {\n      id\n      kind\n      version\n      deal {\n        ...CardFields\n        pipeline {\n          id\n        }\n      }\n    }\n  }\n": typeof types.BoardChangesDocument,
    "\n  query CompanyTree($search: String) {\n    companies(filter: { search: $search }, first: 100, orderBy: [{ field: NAME, direction: ASC }]) {\n      totalCount\n      edges {\n        node {\n          id\n          name\n          domain\n          parent {\n            id\n          }\n          children {\n            id\n            name\n          }\n        }\n      }\n    }\n  }\n": typeof types.CompanyTreeDocument,
    "\n  mutation CreateCompanyUnder($input: CreateCompanyInput!) {\n    createCompany(input: $input) {\n      id\n    }\n  }\n": typeof types.CreateCompanyUnderDocument,
    "\n  query CompanyPage($id: ID!) {\n    company(id: $id) {\n      id\n      name\n      domain\n      industry\n      parent {\n        id\n        name\n      }\n      children {\n        id\n        name\n      }\n      contacts(first: 50) {\n        totalCount\n        edges {\n          node {\n            id\n            name\n            jobTitle\n          }\n        }\n      }\n      deals {\n        id\n        title\n        stage {\n          name\n        }\n      }\n    }\n  }\n": typeof types.CompanyPageDocument,
    "\n  query ContactPage($id: ID!) {\n    contact(id: $id) {\n      id\n      name\n      firstName\n      lastName\n      email\n      phone\n      jobTitle\n      customFields\n      company {\n        id\n        name\n      }\n      deals {\n        id\n        title\n        stage {\n          name\n        }\n      }\n    }\n    tasks(filter: { contactId: $id }) {\n      id\n      title\n      status\n      dueAt\n      isOverdue\n    }\n    timeline(contactId: $id, first: 50) {\n      entries {\n        kind\n        at\n        activity {\n          subject\n        }\n        email {\n          subject\n          status\n        }\n        task {\n          title\n        }\n        fromStage\n        toStage\n        url\n      }\n    }\n  }\n": typeof types.ContactPageDocument,
    "\n  mutation UpdateContactFields($id: ID!, $input: UpdateContactInput!) {\n    updateContact(id: $id, input: $input) {\n      id\n    }\n  }\n": typeof types.UpdateContactFieldsDocument,
    "\n  query ContactFieldDefinitions {\n    customFieldDefinitions(object: CONTACT) {\n      key\n      label\n      type\n    }\n  }\n": typeof types.ContactFieldDefinitionsDocument,
    "\n  query ContactList($filter: ContactFilter, $after: String, $order: [ContactOrder!], $trashed: Boolean) {\n    contacts(filter: $filter, first: 25, after: $after, orderBy: $order, trashed: $trashed) {\n      totalCount\n      edges {\n        node {\n          id\n          name\n          email\n          jobTitle\n          lifecycleStage\n          tags\n          customFields\n          company {\n            id\n            name\n          }\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n": typeof types.ContactListDocument,
    "\n  query ContactListOptions {\n    companies(first: 100, orderBy: [{ field: NAME, direction: ASC }]) {\n      edges {\n        node {\n          id\n          name\n        }\n      }\n    }\n    customFieldDefinitions(object: CONTACT) {\n      key\n      label\n      type\n    }\n  }\n": typeof types.ContactListOptionsDocument,
    "\n  mutation ContactsCreateCompany($input: CreateCompanyInput!) {\n    createCompany(input: $input) {\n      id\n      name\n    }\n  }\n": typeof types.ContactsCreateCompanyDocument,
    "\n  mutation ContactsCreateContact($input: CreateContactInput!) {\n    createContact(input: $input) {\n      id\n    }\n  }\n": typeof types.ContactsCreateContactDocument,
    "\n  mutation ContactsDelete($id: ID!) {\n    deleteContact(id: $id) {\n      id\n    }\n  }\n": typeof types.ContactsDeleteDocument,
    "\n  mutation ContactsRestore($id: ID!) {\n    restoreContact(id: $id) {\n      id\n    }\n  }\n": typeof types.ContactsRestoreDocument,
    "\n  query DealPage($id: ID!) {\n    deal(id: $id) {\n      id\n      title\n      amount\n      currency\n      probability\n      status\n      lostReason\n      expectedCloseDate\n      isRotten\n      stage {\n        name\n      }\n      pipeline {\n        name\n      }\n      owner {\n        name\n      }\n      company {\n        id\n        name\n      }\n      contacts {\n        role\n        contact {\n          id\n          name\n        }\n      }\n      stageHistory {\n        changedAt\n        fromStageName\n        toStageName\n        secondsInPreviousStage\n        changedBy {\n          name\n        }\n      }\n      activities(first: 50) {\n        id\n        type\n        subject\n        occurredAt\n      }\n    }\n    tasks(filter: { dealId: $id }) {\n      id\n      title\n      status\n      dueAt\n    }\n  }\n": typeof types.DealPageDocument,
    "\n  mutation CloseDeal($id: ID!, $outcome: DealOutcome!, $reason: String) {\n    closeDeal(id: $id, outcome: $outcome, lostReason: $reason) {\n      id\n      status\n    }\n  }\n": typeof types.CloseDealDocument,
    "\n  mutation ReopenDeal($id: ID!) {\n    reopenDeal(id: $id) {\n      id\n      status\n    }\n  }\n": typeof types.ReopenDealDocument,
    "\n  query ContactDuplicates($id: ID!) {\n    contactDuplicates(id: $id) {\n      score\n      signals\n      contact {\n        id\n        name\n        email\n      }\n    }\n  }\n": typeof types.ContactDuplicatesDocument,
    "\n  mutation MergeInto($primary: ID!, $others: [ID!]!) {\n    mergeContacts(primaryId: $primary, otherIds: $others) {\n      mergedIds\n    }\n  }\n": typeof types.MergeIntoDocument,
    "\n  query ImportFields {\n    customFieldDefinitions(object: CONTACT) {\n      key\n      label\n    }\n  }\n": typeof types.ImportFieldsDocument,
    "\n  mutation StartImport($input: CreateContactImportInput!) {\n    createContactImport(input: $input) {\n      id\n      uploadUrl\n    }\n  }\n": typeof types.StartImportDocument,
    "\n  query ImportProgress($id: ID!, $after: Int!) {\n    contactImport(id: $id) {\n      id\n      status\n      progress\n      total\n      imported\n      updated\n      skipped\n      failed\n      error\n      errors(afterLine: $after, first: 100) {\n        line\n        column\n        reason\n      }\n    }\n  }\n": typeof types.ImportProgressDocument,
    "\n  mutation ExportAll {\n    exportContacts {\n      downloadUrl\n      expiresAt\n    }\n  }\n": typeof types.ExportAllDocument,
    "\n  mutation ForgotPassword($input: ForgotPasswordInput!) {\n    forgotPassword(input: $input)\n  }\n": typeof types.ForgotPasswordDocument,
    "\n  mutation ResetPassword($input: ResetPasswordInput!) {\n    resetPassword(input: $input)\n  }\n": typeof types.ResetPasswordDocument,
    "\n  query SendTemplates {\n    emailTemplates {\n      id\n      name\n    }\n  }\n": typeof types.SendTemplatesDocument,
    "\n  query PreviewTemplate($id: ID!, $contact: ID) {\n    previewEmailTemplate(id: $id, contactId: $contact) {\n      subject\n      text\n      html\n    }\n  }\n": typeof types.PreviewTemplateDocument,
    "\n  mutation SendEmail($input: SendEmailInput!) {\n    sendEmail(input: $input) {\n      id\n      status\n    }\n  }\n": typeof types.SendEmailDocument,
    "\n  query Settings {\n    currentTenant {\n      name\n      subdomain\n      timezone\n      currency\n      locale\n      fiscalYearStartMonth\n    }\n    tenantUsers {\n      role\n      joinedAt\n      user {\n        id\n        name\n        email\n      }\n    }\n    myPreferences {\n      emailNotifications\n      digest\n      timezone\n      locale\n    }\n    mailSettings {\n      tracking\n      dealWonFollowUp\n    }\n    customFieldDefinitions(object: CONTACT) {\n      id\n      key\n      label\n      type\n      required\n    }\n  }\n": typeof types.SettingsDocument,
    "\n  query Invitations {\n    invitations {\n      id\n      email\n      role\n      expiresAt\n    }\n  }\n": typeof types.InvitationsDocument,
    "\n  mutation SaveOrganization($input: UpdateTenantSettingsInput!) {\n    updateTenantSettings(input: $input) {\n      name\n    }\n  }\n": typeof types.SaveOrganizationDocument,
    "\n  mutation SetRole($user: ID!, $role: Role!) {\n    updateMemberRole(userId: $user, role: $role) {\n      role\n    }\n  }\n": typeof types.SetRoleDocument,
    "\n  mutation RemoveMember($user: ID!) {\n    removeMember(userId: $user)\n  }\n": typeof types.RemoveMemberDocument,
    "\n  mutation Invite($input: InviteUserInput!) {\n    inviteUser(input: $input) {\n      id\n    }\n  }\n": typeof types.InviteDocument,
    "\n  mutation Revoke($id: ID!) {\n    revokeInvitation(id: $id)\n  }\n": typeof types.RevokeDocument,
    "\n  mutation SavePreferences($input: UpdateMyPreferencesInput!) {\n    updateMyPreferences(input: $input) {\n      emailNotifications\n    }\n  }\n": typeof types.SavePreferencesDocument,
    "\n  mutation SaveMail($input: UpdateMailSettingsInput!) {\n    updateMailSettings(input: $input) {\n      tracking\n    }\n  }\n": typeof types.SaveMailDocument,
    "\n  mutation AddField($input: CreateCustomFieldInput!) {\n    createCustomField(input: $input) {\n      id\n    }\n  }\n": typeof types.AddFieldDocument,
    "\n  mutation Register($input: RegisterOrganizationInput!) {\n    registerOrganization(input: $input) {\n      tenant {\n        id\n      }\n    }\n  }\n": typeof types.RegisterDocument,
    "\n  query MyTasks($status: TaskStatus) {\n    myTasks(status: $status, first: 100) {\n      id\n      title\n      dueAt\n      priority\n      status\n      isOverdue\n      contact {\n        id\n        name\n      }\n      deal {\n        id\n        title\n      }\n    }\n  }\n": typeof types.MyTasksDocument,
    "\n  mutation CompleteTask($id: ID!) {\n    completeTask(id: $id) {\n      id\n      status\n    }\n  }\n": typeof types.CompleteTaskDocument,
    "\n  mutation ReopenTask($id: ID!) {\n    reopenTask(id: $id) {\n      id\n      status\n    }\n  }\n": typeof types.ReopenTaskDocument,
    "\n  mutation NewTask($input: CreateTaskInput!) {\n    createTask(input: $input) {\n      id\n    }\n  }\n": typeof types.NewTaskDocument,
    "\n  query Templates {\n    emailTemplates {\n      id\n      name\n      subject\n      text\n      html\n    }\n    emailTemplateVariables\n  }\n": typeof types.TemplatesDocument,
    "\n  mutation CreateTemplate($input: CreateEmailTemplateInput!) {\n    createEmailTemplate(input: $input) {\n      id\n    }\n  }\n": typeof types.CreateTemplateDocument,
    "\n  mutation UpdateTemplate($id: ID!, $input: UpdateEmailTemplateInput!) {\n    updateEmailTemplate(id: $id, input: $input) {\n      id\n    }\n  }\n": typeof types.UpdateTemplateDocument,
    "\n  query Webhooks {\n    webhooks {\n      id\n      url\n      events\n      description\n      enabled\n      disabledReason\n      failingSince\n    }\n  }\n": typeof types.WebhooksDocument,
    "\n  mutation CreateWebhook($input: CreateWebhookInput!) {\n    createWebhook(input: $input) {\n      secret\n      webhook {\n        id\n      }\n    }\n  }\n": typeof types.CreateWebhookDocument,
    "\n  mutation SetWebhookEnabled($id: ID!, $enabled: Boolean!) {\n    updateWebhook(id: $id, input: { enabled: $enabled }) {\n      id\n      enabled\n    }\n  }\n": typeof types.SetWebhookEnabledDocument,
    "\n  mutation DeleteWebhook($id: ID!) {\n    deleteWebhook(id: $id) {\n      id\n    }\n  }\n": typeof types.DeleteWebhookDocument,
    "\n  mutation RotateWebhookSecret($id: ID!) {\n    rotateWebhookSecret(id: $id) {\n      secret\n    }\n  }\n": typeof types.RotateWebhookSecretDocument,
    "\n  mutation TestWebhook($id: ID!) {\n    testWebhook(id: $id) {\n      status\n      responseCode\n      error\n      latencyMs\n    }\n  }\n": typeof types.TestWebhookDocument,
    "\n  query WebhookDeliveries($webhookId: ID!) {\n    webhookDeliveries(webhookId: $webhookId, first: 50) {\n      edges {\n        node {\n          id\n          eventType\n          status\n          attempts\n          responseCode\n          latencyMs\n          error\n          createdAt\n        }\n      }\n    }\n  }\n": typeof types.WebhookDeliveriesDocument,
    "\n  mutation ReplayWebhookDeliveries($webhookId: ID!, $from: DateTime!) {\n    replayWebhookDeliveries(webhookId: $webhookId, from: $from)\n  }\n": typeof types.ReplayWebhookDeliveriesDocument,
};
const documents: Documents = {
    "mutation Logout { logout }": types.LogoutDocument,
    "\n    mutation SwitchOrganization($tenant: ID!) {\n      switchTenant(tenantId: $tenant) {\n        accessToken\n        refreshToken\n        expiresIn\n      }\n    }\n  ": types.SwitchOrganizationDocument,
    "\n    query MyOrganizations {\n      myOrganizations {\n        role\n        tenant {\n          id\n          name\n          subdomain\n        }\n      }\n    }\n  ": types.MyOrganizationsDocument,
    "\n  mutation Refresh($token: String!) {\n    refreshToken(token: $token) {\n      accessToken\n      refreshToken\n      expiresIn\n    }\n  }\n": types.RefreshDocument,
    "\n  mutation Login($input: LoginInput!) {\n    login(input: $input) {\n      accessToken\n      refreshToken\n      expiresIn\n    }\n  }\n": types.LoginDocument,
    "\n  mutation AcceptInvitation($input: AcceptInvitationInput!) {\n    acceptInvitation(input: $input) {\n      tenant {\n        subdomain\n      }\n      user {\n        email\n      }\n    }\n  }\n": types.AcceptInvitationDocument,
    "\n  query AnalyticsPipelines {\n    pipelines {\n      id\n      name\n      isDefault\n    }\n  }\n": types.AnalyticsPipelinesDocument,
    "\n  query DealReport($pipeline: ID, $from: Date, $to: Date) {\n    dealAnalytics(pipelineId: $pipeline, from: $from, to: $to) {\n      forecast {\n        month\n        count\n        amounts {\n          currency\n          amount\n          weightedAmount\n        }\n      }\n      winRate {\n        won\n        lost\n        byCount\n        byAmount {\n          currency\n          rate\n          wonAmount\n          closedAmount\n        }\n      }\n      salesCycle {\n        deals\n        averageDays\n        medianDays\n      }\n      stageConversion {\n        stage {\n          name\n        }\n        entered\n        advanced\n        rate\n      }\n      timeInStage {\n        stage {\n          name\n        }\n        exits\n        averageSeconds\n        medianSeconds\n      }\n    }\n  }\n": types.DealReportDocument,
    "\n  fragment CardFields on Deal {\n    id\n    title\n    position\n    version\n    amount\n    currency\n    probability\n    isRotten\n    stage {\n      id\n    }\n    owner {\n      name\n    }\n  }\n": types.CardFieldsFragmentDoc,
    "\n  query BoardPipelines {\n    pipelines {\n      id\n      name\n      isDefault\n      stages {\n        id\n        name\n        kind\n      }\n    }\n  }\n": types.BoardPipelinesDocument,
    "\n  query BoardDeals($pipeline: ID!, $after: String) {\n    deals(filter: { pipelineId: { eq: $pipeline } }, first: 100, after: $after) {\n      edges {\n        node {\n          ...CardFields\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n": types.BoardDealsDocument,
    "\n  mutation BoardMove($id: ID!, $stage: ID!, $before: ID) {\n    moveDeal(id: $id, stageId: $stage, beforeId: $before) {\n      ...CardFields\n    }\n  }\n": types.BoardMoveDocument,
    "\n  mutation BoardCloseLost($id: ID!, $reason: String) {\n    closeDeal(id: $id, outcome: LOST, lostReason: $reason) {\n      ...CardFields\n    }\n  }\n": types.BoardCloseLostDocument,
    "\n  mutation BoardCreate($input: CreateDealInput!) {\n    createDeal(input: $input) {\n      ...CardFields\n    }\n  }\n": types.BoardCreateDocument,
    "\n  subscription BoardChanges($pipeline: ID, $after: ID) {\n    dealChanged(pipelineId: $pipeline, after: $after) {\n      id\n      kind\n      version\n      deal {\n        ...CardFields\n        pipeline {\n          id\n        }\n      }\n    }\n  }\n": types.BoardChangesDocument,
    "\n  query CompanyTree($search: String) {\n    companies(filter: { search: $search }, first: 100, orderBy: [{ field: NAME, direction: ASC }]) {\n      totalCount\n      edges {\n        node {\n          id\n          name\n          domain\n          parent {\n            id\n          }\n          children {\n            id\n            name\n          }\n        }\n      }\n    }\n  }\n": types.CompanyTreeDocument,
    "\n  mutation CreateCompanyUnder($input: CreateCompanyInput!) {\n    createCompany(input: $input) {\n      id\n    }\n  }\n": types.CreateCompanyUnderDocument,
    "\n  query CompanyPage($id: ID!) {\n    company(id: $id) {\n      id\n      name\n      domain\n      industry\n      parent {\n        id\n        name\n      }\n      children {\n        id\n        name\n      }\n      contacts(first: 50) {\n        totalCount\n        edges {\n          node {\n            id\n            name\n            jobTitle\n          }\n        }\n      }\n      deals {\n        id\n        title\n        stage {\n          name\n        }\n      }\n    }\n  }\n": types.CompanyPageDocument,
    "\n  query ContactPage($id: ID!) {\n    contact(id: $id) {\n      id\n      name\n      firstName\n      lastName\n      email\n      phone\n      jobTitle\n      customFields\n      company {\n        id\n        name\n      }\n      deals {\n        id\n        title\n        stage {\n          name\n        }\n      }\n    }\n    tasks(filter: { contactId: $id }) {\n      id\n      title\n      status\n      dueAt\n      isOverdue\n    }\n    timeline(contactId: $id, first: 50) {\n      entries {\n        kind\n        at\n        activity {\n          subject\n        }\n        email {\n          subject\n          status\n        }\n        task {\n          title\n        }\n        fromStage\n        toStage\n        url\n      }\n    }\n  }\n": types.ContactPageDocument,
    "\n  mutation UpdateContactFields($id: ID!, $input: UpdateContactInput!) {\n    updateContact(id: $id, input: $input) {\n      id\n    }\n  }\n": types.UpdateContactFieldsDocument,
    "\n  query ContactFieldDefinitions {\n    customFieldDefinitions(object: CONTACT) {\n      key\n      label\n      type\n    }\n  }\n": types.ContactFieldDefinitionsDocument,
    "\n  query ContactList($filter: ContactFilter, $after: String, $order: [ContactOrder!], $trashed: Boolean) {\n    contacts(filter: $filter, first: 25, after: $after, orderBy: $order, trashed: $trashed) {\n      totalCount\n      edges {\n        node {\n          id\n          name\n          email\n          jobTitle\n          lifecycleStage\n          tags\n          customFields\n          company {\n            id\n            name\n          }\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n": types.ContactListDocument,
    "\n  query ContactListOptions {\n    companies(first: 100, orderBy: [{ field: NAME, direction: ASC }]) {\n      edges {\n        node {\n          id\n          name\n        }\n      }\n    }\n    customFieldDefinitions(object: CONTACT) {\n      key\n      label\n      type\n    }\n  }\n": types.ContactListOptionsDocument,
    "\n  mutation ContactsCreateCompany($input: CreateCompanyInput!) {\n    createCompany(input: $input) {\n      id\n      name\n    }\n  }\n": types.ContactsCreateCompanyDocument,
    "\n  mutation ContactsCreateContact($input: CreateContactInput!) {\n    createContact(input: $input) {\n      id\n    }\n  }\n": types.ContactsCreateContactDocument,
    "\n  mutation ContactsDelete($id: ID!) {\n    deleteContact(id: $id) {\n      id\n    }\n  }\n": types.ContactsDeleteDocument,
    "\n  mutation ContactsRestore($id: ID!) {\n    restoreContact(id: $id) {\n      id\n    }\n  }\n": types.ContactsRestoreDocument,
    "\n  query DealPage($id: ID!) {\n    deal(id: $id) {\n      id\n      title\n      amount\n      currency\n      probability\n      status\n      lostReason\n      expectedCloseDate\n      isRotten\n      stage {\n        name\n      }\n      pipeline {\n        name\n      }\n      owner {\n        name\n      }\n      company {\n        id\n        name\n      }\n      contacts {\n        role\n        contact {\n          id\n          name\n        }\n      }\n      stageHistory {\n        changedAt\n        fromStageName\n        toStageName\n        secondsInPreviousStage\n        changedBy {\n          name\n        }\n      }\n      activities(first: 50) {\n        id\n        type\n        subject\n        occurredAt\n      }\n    }\n    tasks(filter: { dealId: $id }) {\n      id\n      title\n      status\n      dueAt\n    }\n  }\n": types.DealPageDocument,
    "\n  mutation CloseDeal($id: ID!, $outcome: DealOutcome!, $reason: String) {\n    closeDeal(id: $id, outcome: $outcome, lostReason: $reason) {\n      id\n      status\n    }\n  }\n": types.CloseDealDocument,
    "\n  mutation ReopenDeal($id: ID!) {\n    reopenDeal(id: $id) {\n      id\n      status\n    }\n  }\n": types.ReopenDealDocument,
    "\n  query ContactDuplicates($id: ID!) {\n    contactDuplicates(id: $id) {\n      score\n      signals\n      contact {\n        id\n        name\n        email\n      }\n    }\n  }\n": types.ContactDuplicatesDocument,
    "\n  mutation MergeInto($primary: ID!, $others: [ID!]!) {\n    mergeContacts(primaryId: $primary, otherIds: $others) {\n      mergedIds\n    }\n  }\n": types.MergeIntoDocument,
    "\n  query ImportFields {\n    customFieldDefinitions(object: CONTACT) {\n      key\n      label\n    }\n  }\n": types.ImportFieldsDocument,
    "\n  mutation StartImport($input: CreateContactImportInput!) {\n    createContactImport(input: $input) {\n      id\n      uploadUrl\n    }\n  }\n": types.StartImportDocument,
    "\n  query ImportProgress($id: ID!, $after: Int!) {\n    contactImport(id: $id) {\n      id\n      status\n      progress\n      total\n      imported\n      updated\n      skipped\n      failed\n      error\n      errors(afterLine: $after, first: 100) {\n        line\n        column\n        reason\n      }\n    }\n  }\n": types.ImportProgressDocument,
    "\n  mutation ExportAll {\n    exportContacts {\n      downloadUrl\n      expiresAt\n    }\n  }\n": types.ExportAllDocument,
    "\n  mutation ForgotPassword($input: ForgotPasswordInput!) {\n    forgotPassword(input: $input)\n  }\n": types.ForgotPasswordDocument,
    "\n  mutation ResetPassword($input: ResetPasswordInput!) {\n    resetPassword(input: $input)\n  }\n": types.ResetPasswordDocument,
    "\n  query SendTemplates {\n    emailTemplates {\n      id\n      name\n    }\n  }\n": types.SendTemplatesDocument,
    "\n  query PreviewTemplate($id: ID!, $contact: ID) {\n    previewEmailTemplate(id: $id, contactId: $contact) {\n      subject\n      text\n      html\n    }\n  }\n": types.PreviewTemplateDocument,
    "\n  mutation SendEmail($input: SendEmailInput!) {\n    sendEmail(input: $input) {\n      id\n      status\n    }\n  }\n": types.SendEmailDocument,
    "\n  query Settings {\n    currentTenant {\n      name\n      subdomain\n      timezone\n      currency\n      locale\n      fiscalYearStartMonth\n    }\n    tenantUsers {\n      role\n      joinedAt\n      user {\n        id\n        name\n        email\n      }\n    }\n    myPreferences {\n      emailNotifications\n      digest\n      timezone\n      locale\n    }\n    mailSettings {\n      tracking\n      dealWonFollowUp\n    }\n    customFieldDefinitions(object: CONTACT) {\n      id\n      key\n      label\n      type\n      required\n    }\n  }\n": types.SettingsDocument,
    "\n  query Invitations {\n    invitations {\n      id\n      email\n      role\n      expiresAt\n    }\n  }\n": types.InvitationsDocument,
    "\n  mutation SaveOrganization($input: UpdateTenantSettingsInput!) {\n    updateTenantSettings(input: $input) {\n      name\n    }\n  }\n": types.SaveOrganizationDocument,
    "\n  mutation SetRole($user: ID!, $role: Role!) {\n    updateMemberRole(userId: $user, role: $role) {\n      role\n    }\n  }\n": types.SetRoleDocument,
    "\n  mutation RemoveMember($user: ID!) {\n    removeMember(userId: $user)\n  }\n": types.RemoveMemberDocument,
    "\n  mutation Invite($input: InviteUserInput!) {\n    inviteUser(input: $input) {\n      id\n    }\n  }\n": types.InviteDocument,
    "\n  mutation Revoke($id: ID!) {\n    revokeInvitation(id: $id)\n  }\n": types.RevokeDocument,
    "\n  mutation SavePreferences($input: UpdateMyPreferencesInput!) {\n    updateMyPreferences(input: $input) {\n      emailNotifications\n    }\n  }\n": types.SavePreferencesDocument,
    "\n  mutation SaveMail($input: UpdateMailSettingsInput!) {\n    updateMailSettings(input: $input) {\n      tracking\n    }\n  }\n": types.SaveMailDocument,
    "\n  mutation AddField($input: CreateCustomFieldInput!) {\n    createCustomField(input: $input) {\n      id\n    }\n  }\n": types.AddFieldDocument,
    "\n  mutation Register($input: RegisterOrganizationInput!) {\n    registerOrganization(input: $input) {\n      tenant {\n        id\n      }\n    }\n  }\n": types.RegisterDocument,
    "\n  query MyTasks($status: TaskStatus) {\n    myTasks(status: $status, first: 100) {\n      id\n      title\n      dueAt\n      priority\n      status\n      isOverdue\n      contact {\n        id\n        name\n      }\n      deal {\n        id\n        title\n      }\n    }\n  }\n": types.MyTasksDocument,
    "\n  mutation CompleteTask($id: ID!) {\n    completeTask(id: $id) {\n      id\n      status\n    }\n  }\n": types.CompleteTaskDocument,
    "\n  mutation ReopenTask($id: ID!) {\n    reopenTask(id: $id) {\n      id\n      status\n    }\n  }\n": types.ReopenTaskDocument,
    "\n  mutation NewTask($input: CreateTaskInput!) {\n    createTask(input: $input) {\n      id\n    }\n  }\n": types.NewTaskDocument,
    "\n  query Templates {\n    emailTemplates {\n      id\n      name\n      subject\n      text\n      html\n    }\n    emailTemplateVariables\n  }\n": types.TemplatesDocument,
    "\n  mutation CreateTemplate($input: CreateEmailTemplateInput!) {\n    createEmailTemplate(input: $input) {\n      id\n    }\n  }\n": types.CreateTemplateDocument,
    "\n  mutation UpdateTemplate($id: ID!, $input: UpdateEmailTemplateInput!) {\n    updateEmailTemplate(id: $id, input: $input) {\n      id\n    }\n  }\n": types.UpdateTemplateDocument,
    "\n  query Webhooks {\n    webhooks {\n      id\n      url\n      events\n      description\n      enabled\n      disabledReason\n      failingSince\n    }\n  }\n": types.WebhooksDocument,
    "\n  mutation CreateWebhook($input: CreateWebhookInput!) {\n    createWebhook(input: $input) {\n      secret\n      webhook {\n        id\n      }\n    }\n  }\n": types.CreateWebhookDocument,
    "\n  mutation SetWebhookEnabled($id: ID!, $enabled: Boolean!) {\n    updateWebhook(id: $id, input: { enabled: $enabled }) {\n      id\n      enabled\n    }\n  }\n": types.SetWebhookEnabledDocument,
    "\n  mutation DeleteWebhook($id: ID!) {\n    deleteWebhook(id: $id) {\n      id\n    }\n  }\n": types.DeleteWebhookDocument,
    "\n  mutation RotateWebhookSecret($id: ID!) {\n    rotateWebhookSecret(id: $id) {\n      secret\n    }\n  }\n": types.RotateWebhookSecretDocument,
    "\n  mutation TestWebhook($id: ID!) {\n    testWebhook(id: $id) {\n      status\n      responseCode\n      error\n      latencyMs\n    }\n  }\n": types.TestWebhookDocument,
    "\n  query WebhookDeliveries($webhookId: ID!) {\n    webhookDeliveries(webhookId: $webhookId, first: 50) {\n      edges {\n        node {\n          id\n          eventType\n          status\n          attempts\n          responseCode\n          latencyMs\n          error\n          createdAt\n        }\n      }\n    }\n  }\n": types.WebhookDeliveriesDocument,
    "\n  mutation ReplayWebhookDeliveries($webhookId: ID!, $from: DateTime!) {\n    replayWebhookDeliveries(webhookId: $webhookId, from: $from)\n  }\n": types.ReplayWebhookDeliveriesDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation Logout { logout }"): (typeof documents)["mutation Logout { logout }"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n    mutation SwitchOrganization($tenant: ID!) {\n      switchTenant(tenantId: $tenant) {\n        accessToken\n        refreshToken\n        expiresIn\n      }\n    }\n  "): (typeof documents)["\n    mutation SwitchOrganization($tenant: ID!) {\n      switchTenant(tenantId: $tenant) {\n        accessToken\n        refreshToken\n        expiresIn\n      }\n    }\n  "];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n    query MyOrganizations {\n      myOrganizations {\n        role\n        tenant {\n          id\n          name\n          subdomain\n        }\n      }\n    }\n  "): (typeof documents)["\n    query MyOrganizations {\n      myOrganizations {\n        role\n        tenant {\n          id\n          name\n          subdomain\n        }\n      }\n    }\n  "];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Refresh($token: String!) {\n    refreshToken(token: $token) {\n      accessToken\n      refreshToken\n      expiresIn\n    }\n  }\n"): (typeof documents)["\n  mutation Refresh($token: String!) {\n    refreshToken(token: $token) {\n      accessToken\n      refreshToken\n      expiresIn\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Login($input: LoginInput!) {\n    login(input: $input) {\n      accessToken\n      refreshToken\n      expiresIn\n    }\n  }\n"): (typeof documents)["\n  mutation Login($input: LoginInput!) {\n    login(input: $input) {\n      accessToken\n      refreshToken\n      expiresIn\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation AcceptInvitation($input: AcceptInvitationInput!) {\n    acceptInvitation(input: $input) {\n      tenant {\n        subdomain\n      }\n      user {\n        email\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation AcceptInvitation($input: AcceptInvitationInput!) {\n    acceptInvitation(input: $input) {\n      tenant {\n        subdomain\n      }\n      user {\n        email\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query AnalyticsPipelines {\n    pipelines {\n      id\n      name\n      isDefault\n    }\n  }\n"): (typeof documents)["\n  query AnalyticsPipelines {\n    pipelines {\n      id\n      name\n      isDefault\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DealReport($pipeline: ID, $from: Date, $to: Date) {\n    dealAnalytics(pipelineId: $pipeline, from: $from, to: $to) {\n      forecast {\n        month\n        count\n        amounts {\n          currency\n          amount\n          weightedAmount\n        }\n      }\n      winRate {\n        won\n        lost\n        byCount\n        byAmount {\n          currency\n          rate\n          wonAmount\n          closedAmount\n        }\n      }\n      salesCycle {\n        deals\n        averageDays\n        medianDays\n      }\n      stageConversion {\n        stage {\n          name\n        }\n        entered\n        advanced\n        rate\n      }\n      timeInStage {\n        stage {\n          name\n        }\n        exits\n        averageSeconds\n        medianSeconds\n      }\n    }\n  }\n"): (typeof documents)["\n  query DealReport($pipeline: ID, $from: Date, $to: Date) {\n    dealAnalytics(pipelineId: $pipeline, from: $from, to: $to) {\n      forecast {\n        month\n        count\n        amounts {\n          currency\n          amount\n          weightedAmount\n        }\n      }\n      winRate {\n        won\n        lost\n        byCount\n        byAmount {\n          currency\n          rate\n          wonAmount\n          closedAmount\n        }\n      }\n      salesCycle {\n        deals\n        averageDays\n        medianDays\n      }\n      stageConversion {\n        stage {\n          name\n        }\n        entered\n        advanced\n        rate\n      }\n      timeInStage {\n        stage {\n          name\n        }\n        exits\n        averageSeconds\n        medianSeconds\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  fragment CardFields on Deal {\n    id\n    title\n    position\n    version\n    amount\n    currency\n    probability\n    isRotten\n    stage {\n      id\n    }\n    owner {\n      name\n    }\n  }\n"): (typeof documents)["\n  fragment CardFields on Deal {\n    id\n    title\n    position\n    version\n    amount\n    currency\n    probability\n    isRotten\n    stage {\n      id\n    }\n    owner {\n      name\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query BoardPipelines {\n    pipelines {\n      id\n      name\n      isDefault\n      stages {\n        id\n        name\n        kind\n      }\n    }\n  }\n"): (typeof documents)["\n  query BoardPipelines {\n    pipelines {\n      id\n      name\n      isDefault\n      stages {\n        id\n        name\n        kind\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query BoardDeals($pipeline: ID!, $after: String) {\n    deals(filter: { pipelineId: { eq: $pipeline } }, first: 100, after: $after) {\n      edges {\n        node {\n          ...CardFields\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n"): (typeof documents)["\n  query BoardDeals($pipeline: ID!, $after: String) {\n    deals(filter: { pipelineId: { eq: $pipeline } }, first: 100, after: $after) {\n      edges {\n        node {\n          ...CardFields\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation BoardMove($id: ID!, $stage: ID!, $before: ID) {\n    moveDeal(id: $id, stageId: $stage, beforeId: $before) {\n      ...CardFields\n    }\n  }\n"): (typeof documents)["\n  mutation BoardMove($id: ID!, $stage: ID!, $before: ID) {\n    moveDeal(id: $id, stageId: $stage, beforeId: $before) {\n      ...CardFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation BoardCloseLost($id: ID!, $reason: String) {\n    closeDeal(id: $id, outcome: LOST, lostReason: $reason) {\n      ...CardFields\n    }\n  }\n"): (typeof documents)["\n  mutation BoardCloseLost($id: ID!, $reason: String) {\n    closeDeal(id: $id, outcome: LOST, lostReason: $reason) {\n      ...CardFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation BoardCreate($input: CreateDealInput!) {\n    createDeal(input: $input) {\n      ...CardFields\n    }\n  }\n"): (typeof documents)["\n  mutation BoardCreate($input: CreateDealInput!) {\n    createDeal(input: $input) {\n      ...CardFields\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  subscription BoardChanges($pipeline: ID, $after: ID) {\n    dealChanged(pipelineId: $pipeline, after: $after) {\n      id\n      kind\n      version\n      deal {\n        ...CardFields\n        pipeline {\n          id\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  subscription BoardChanges($pipeline: ID, $after: ID) {\n    dealChanged(pipelineId: $pipeline, after: $after) {\n      id\n      kind\n      version\n      deal {\n        ...CardFields\n        pipeline {\n          id\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query CompanyTree($search: String) {\n    companies(filter: { search: $search }, first: 100, orderBy: [{ field: NAME, direction: ASC }]) {\n      totalCount\n      edges {\n        node {\n          id\n          name\n          domain\n          parent {\n            id\n          }\n          children {\n            id\n            name\n          }\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query CompanyTree($search: String) {\n    companies(filter: { search: $search }, first: 100, orderBy: [{ field: NAME, direction: ASC }]) {\n      totalCount\n      edges {\n        node {\n          id\n          name\n          domain\n          parent {\n            id\n          }\n          children {\n            id\n            name\n          }\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateCompanyUnder($input: CreateCompanyInput!) {\n    createCompany(input: $input) {\n      id\n    }\n  }\n"): (typeof documents)["\n  mutation CreateCompanyUnder($input: CreateCompanyInput!) {\n    createCompany(input: $input) {\n      id\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query CompanyPage($id: ID!) {\n    company(id: $id) {\n      id\n      name\n      domain\n      industry\n      parent {\n        id\n        name\n      }\n      children {\n        id\n        name\n      }\n      contacts(first: 50) {\n        totalCount\n        edges {\n          node {\n            id\n            name\n            jobTitle\n          }\n        }\n      }\n      deals {\n        id\n        title\n        stage {\n          name\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query CompanyPage($id: ID!) {\n    company(id: $id) {\n      id\n      name\n      domain\n      industry\n      parent {\n        id\n        name\n      }\n      children {\n        id\n        name\n      }\n      contacts(first: 50) {\n        totalCount\n        edges {\n          node {\n            id\n            name\n            jobTitle\n          }\n        }\n      }\n      deals {\n        id\n        title\n        stage {\n          name\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ContactPage($id: ID!) {\n    contact(id: $id) {\n      id\n      name\n      firstName\n      lastName\n      email\n      phone\n      jobTitle\n      customFields\n      company {\n        id\n        name\n      }\n      deals {\n        id\n        title\n        stage {\n          name\n        }\n      }\n    }\n    tasks(filter: { contactId: $id }) {\n      id\n      title\n      status\n      dueAt\n      isOverdue\n    }\n    timeline(contactId: $id, first: 50) {\n      entries {\n        kind\n        at\n        activity {\n          subject\n        }\n        email {\n          subject\n          status\n        }\n        task {\n          title\n        }\n        fromStage\n        toStage\n        url\n      }\n    }\n  }\n"): (typeof documents)["\n  query ContactPage($id: ID!) {\n    contact(id: $id) {\n      id\n      name\n      firstName\n      lastName\n      email\n      phone\n      jobTitle\n      customFields\n      company {\n        id\n        name\n      }\n      deals {\n        id\n        title\n        stage {\n          name\n        }\n      }\n    }\n    tasks(filter: { contactId: $id }) {\n      id\n      title\n      status\n      dueAt\n      isOverdue\n    }\n    timeline(contactId: $id, first: 50) {\n      entries {\n        kind\n        at\n        activity {\n          subject\n        }\n        email {\n          subject\n          status\n        }\n        task {\n          title\n        }\n        fromStage\n        toStage\n        url\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateContactFields($id: ID!, $input: UpdateContactInput!) {\n    updateContact(id: $id, input: $input) {\n      id\n    }\n  }\n"): (typeof documents)["\n  mutation UpdateContactFields($id: ID!, $input: UpdateContactInput!) {\n    updateContact(id: $id, input: $input) {\n      id\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ContactFieldDefinitions {\n    customFieldDefinitions(object: CONTACT) {\n      key\n      label\n      type\n    }\n  }\n"): (typeof documents)["\n  query ContactFieldDefinitions {\n    customFieldDefinitions(object: CONTACT) {\n      key\n      label\n      type\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ContactList($filter: ContactFilter, $after: String, $order: [ContactOrder!], $trashed: Boolean) {\n    contacts(filter: $filter, first: 25, after: $after, orderBy: $order, trashed: $trashed) {\n      totalCount\n      edges {\n        node {\n          id\n          name\n          email\n          jobTitle\n          lifecycleStage\n          tags\n          customFields\n          company {\n            id\n            name\n          }\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n"): (typeof documents)["\n  query ContactList($filter: ContactFilter, $after: String, $order: [ContactOrder!], $trashed: Boolean) {\n    contacts(filter: $filter, first: 25, after: $after, orderBy: $order, trashed: $trashed) {\n      totalCount\n      edges {\n        node {\n          id\n          name\n          email\n          jobTitle\n          lifecycleStage\n          tags\n          customFields\n          company {\n            id\n            name\n          }\n        }\n      }\n      pageInfo {\n        hasNextPage\n        endCursor\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ContactListOptions {\n    companies(first: 100, orderBy: [{ field: NAME, direction: ASC }]) {\n      edges {\n        node {\n          id\n          name\n        }\n      }\n    }\n    customFieldDefinitions(object: CONTACT) {\n      key\n      label\n      type\n    }\n  }\n"): (typeof documents)["\n  query ContactListOptions {\n    companies(first: 100, orderBy: [{ field: NAME, direction: ASC }]) {\n      edges {\n        node {\n          id\n          name\n        }\n      }\n    }\n    customFieldDefinitions(object: CONTACT) {\n      key\n      label\n      type\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ContactsCreateCompany($input: CreateCompanyInput!) {\n    createCompany(input: $input) {\n      id\n      name\n    }\n  }\n"): (typeof documents)["\n  mutation ContactsCreateCompany($input: CreateCompanyInput!) {\n    createCompany(input: $input) {\n      id\n      name\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ContactsCreateContact($input: CreateContactInput!) {\n    createContact(input: $input) {\n      id\n    }\n  }\n"): (typeof documents)["\n  mutation ContactsCreateContact($input: CreateContactInput!) {\n    createContact(input: $input) {\n      id\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ContactsDelete($id: ID!) {\n    deleteContact(id: $id) {\n      id\n    }\n  }\n"): (typeof documents)["\n  mutation ContactsDelete($id: ID!) {\n    deleteContact(id: $id) {\n      id\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ContactsRestore($id: ID!) {\n    restoreContact(id: $id) {\n      id\n    }\n  }\n"): (typeof documents)["\n  mutation ContactsRestore($id: ID!) {\n    restoreContact(id: $id) {\n      id\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query DealPage($id: ID!) {\n    deal(id: $id) {\n      id\n      title\n      amount\n      currency\n      probability\n      status\n      lostReason\n      expectedCloseDate\n      isRotten\n      stage {\n        name\n      }\n      pipeline {\n        name\n      }\n      owner {\n        name\n      }\n      company {\n        id\n        name\n      }\n      contacts {\n        role\n        contact {\n          id\n          name\n        }\n      }\n      stageHistory {\n        changedAt\n        fromStageName\n        toStageName\n        secondsInPreviousStage\n        changedBy {\n          name\n        }\n      }\n      activities(first: 50) {\n        id\n        type\n        subject\n        occurredAt\n      }\n    }\n    tasks(filter: { dealId: $id }) {\n      id\n      title\n      status\n      dueAt\n    }\n  }\n"): (typeof documents)["\n  query DealPage($id: ID!) {\n    deal(id: $id) {\n      id\n      title\n      amount\n      currency\n      probability\n      status\n      lostReason\n      expectedCloseDate\n      isRotten\n      stage {\n        name\n      }\n      pipeline {\n        name\n      }\n      owner {\n        name\n      }\n      company {\n        id\n        name\n      }\n      contacts {\n        role\n        contact {\n          id\n          name\n        }\n      }\n      stageHistory {\n        changedAt\n        fromStageName\n        toStageName\n        secondsInPreviousStage\n        changedBy {\n          name\n        }\n      }\n      activities(first: 50) {\n        id\n        type\n        subject\n        occurredAt\n      }\n    }\n    tasks(filter: { dealId: $id }) {\n      id\n      title\n      status\n      dueAt\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CloseDeal($id: ID!, $outcome: DealOutcome!, $reason: String) {\n    closeDeal(id: $id, outcome: $outcome, lostReason: $reason) {\n      id\n      status\n    }\n  }\n"): (typeof documents)["\n  mutation CloseDeal($id: ID!, $outcome: DealOutcome!, $reason: String) {\n    closeDeal(id: $id, outcome: $outcome, lostReason: $reason) {\n      id\n      status\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ReopenDeal($id: ID!) {\n    reopenDeal(id: $id) {\n      id\n      status\n    }\n  }\n"): (typeof documents)["\n  mutation ReopenDeal($id: ID!) {\n    reopenDeal(id: $id) {\n      id\n      status\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ContactDuplicates($id: ID!) {\n    contactDuplicates(id: $id) {\n      score\n      signals\n      contact {\n        id\n        name\n        email\n      }\n    }\n  }\n"): (typeof documents)["\n  query ContactDuplicates($id: ID!) {\n    contactDuplicates(id: $id) {\n      score\n      signals\n      contact {\n        id\n        name\n        email\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation MergeInto($primary: ID!, $others: [ID!]!) {\n    mergeContacts(primaryId: $primary, otherIds: $others) {\n      mergedIds\n    }\n  }\n"): (typeof documents)["\n  mutation MergeInto($primary: ID!, $others: [ID!]!) {\n    mergeContacts(primaryId: $primary, otherIds: $others) {\n      mergedIds\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ImportFields {\n    customFieldDefinitions(object: CONTACT) {\n      key\n      label\n    }\n  }\n"): (typeof documents)["\n  query ImportFields {\n    customFieldDefinitions(object: CONTACT) {\n      key\n      label\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation StartImport($input: CreateContactImportInput!) {\n    createContactImport(input: $input) {\n      id\n      uploadUrl\n    }\n  }\n"): (typeof documents)["\n  mutation StartImport($input: CreateContactImportInput!) {\n    createContactImport(input: $input) {\n      id\n      uploadUrl\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query ImportProgress($id: ID!, $after: Int!) {\n    contactImport(id: $id) {\n      id\n      status\n      progress\n      total\n      imported\n      updated\n      skipped\n      failed\n      error\n      errors(afterLine: $after, first: 100) {\n        line\n        column\n        reason\n      }\n    }\n  }\n"): (typeof documents)["\n  query ImportProgress($id: ID!, $after: Int!) {\n    contactImport(id: $id) {\n      id\n      status\n      progress\n      total\n      imported\n      updated\n      skipped\n      failed\n      error\n      errors(afterLine: $after, first: 100) {\n        line\n        column\n        reason\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ExportAll {\n    exportContacts {\n      downloadUrl\n      expiresAt\n    }\n  }\n"): (typeof documents)["\n  mutation ExportAll {\n    exportContacts {\n      downloadUrl\n      expiresAt\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ForgotPassword($input: ForgotPasswordInput!) {\n    forgotPassword(input: $input)\n  }\n"): (typeof documents)["\n  mutation ForgotPassword($input: ForgotPasswordInput!) {\n    forgotPassword(input: $input)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ResetPassword($input: ResetPasswordInput!) {\n    resetPassword(input: $input)\n  }\n"): (typeof documents)["\n  mutation ResetPassword($input: ResetPasswordInput!) {\n    resetPassword(input: $input)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query SendTemplates {\n    emailTemplates {\n      id\n      name\n    }\n  }\n"): (typeof documents)["\n  query SendTemplates {\n    emailTemplates {\n      id\n      name\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query PreviewTemplate($id: ID!, $contact: ID) {\n    previewEmailTemplate(id: $id, contactId: $contact) {\n      subject\n      text\n      html\n    }\n  }\n"): (typeof documents)["\n  query PreviewTemplate($id: ID!, $contact: ID) {\n    previewEmailTemplate(id: $id, contactId: $contact) {\n      subject\n      text\n      html\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SendEmail($input: SendEmailInput!) {\n    sendEmail(input: $input) {\n      id\n      status\n    }\n  }\n"): (typeof documents)["\n  mutation SendEmail($input: SendEmailInput!) {\n    sendEmail(input: $input) {\n      id\n      status\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Settings {\n    currentTenant {\n      name\n      subdomain\n      timezone\n      currency\n      locale\n      fiscalYearStartMonth\n    }\n    tenantUsers {\n      role\n      joinedAt\n      user {\n        id\n        name\n        email\n      }\n    }\n    myPreferences {\n      emailNotifications\n      digest\n      timezone\n      locale\n    }\n    mailSettings {\n      tracking\n      dealWonFollowUp\n    }\n    customFieldDefinitions(object: CONTACT) {\n      id\n      key\n      label\n      type\n      required\n    }\n  }\n"): (typeof documents)["\n  query Settings {\n    currentTenant {\n      name\n      subdomain\n      timezone\n      currency\n      locale\n      fiscalYearStartMonth\n    }\n    tenantUsers {\n      role\n      joinedAt\n      user {\n        id\n        name\n        email\n      }\n    }\n    myPreferences {\n      emailNotifications\n      digest\n      timezone\n      locale\n    }\n    mailSettings {\n      tracking\n      dealWonFollowUp\n    }\n    customFieldDefinitions(object: CONTACT) {\n      id\n      key\n      label\n      type\n      required\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Invitations {\n    invitations {\n      id\n      email\n      role\n      expiresAt\n    }\n  }\n"): (typeof documents)["\n  query Invitations {\n    invitations {\n      id\n      email\n      role\n      expiresAt\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SaveOrganization($input: UpdateTenantSettingsInput!) {\n    updateTenantSettings(input: $input) {\n      name\n    }\n  }\n"): (typeof documents)["\n  mutation SaveOrganization($input: UpdateTenantSettingsInput!) {\n    updateTenantSettings(input: $input) {\n      name\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SetRole($user: ID!, $role: Role!) {\n    updateMemberRole(userId: $user, role: $role) {\n      role\n    }\n  }\n"): (typeof documents)["\n  mutation SetRole($user: ID!, $role: Role!) {\n    updateMemberRole(userId: $user, role: $role) {\n      role\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RemoveMember($user: ID!) {\n    removeMember(userId: $user)\n  }\n"): (typeof documents)["\n  mutation RemoveMember($user: ID!) {\n    removeMember(userId: $user)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Invite($input: InviteUserInput!) {\n    inviteUser(input: $input) {\n      id\n    }\n  }\n"): (typeof documents)["\n  mutation Invite($input: InviteUserInput!) {\n    inviteUser(input: $input) {\n      id\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Revoke($id: ID!) {\n    revokeInvitation(id: $id)\n  }\n"): (typeof documents)["\n  mutation Revoke($id: ID!) {\n    revokeInvitation(id: $id)\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SavePreferences($input: UpdateMyPreferencesInput!) {\n    updateMyPreferences(input: $input) {\n      emailNotifications\n    }\n  }\n"): (typeof documents)["\n  mutation SavePreferences($input: UpdateMyPreferencesInput!) {\n    updateMyPreferences(input: $input) {\n      emailNotifications\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SaveMail($input: UpdateMailSettingsInput!) {\n    updateMailSettings(input: $input) {\n      tracking\n    }\n  }\n"): (typeof documents)["\n  mutation SaveMail($input: UpdateMailSettingsInput!) {\n    updateMailSettings(input: $input) {\n      tracking\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation AddField($input: CreateCustomFieldInput!) {\n    createCustomField(input: $input) {\n      id\n    }\n  }\n"): (typeof documents)["\n  mutation AddField($input: CreateCustomFieldInput!) {\n    createCustomField(input: $input) {\n      id\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation Register($input: RegisterOrganizationInput!) {\n    registerOrganization(input: $input) {\n      tenant {\n        id\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation Register($input: RegisterOrganizationInput!) {\n    registerOrganization(input: $input) {\n      tenant {\n        id\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query MyTasks($status: TaskStatus) {\n    myTasks(status: $status, first: 100) {\n      id\n      title\n      dueAt\n      priority\n      status\n      isOverdue\n      contact {\n        id\n        name\n      }\n      deal {\n        id\n        title\n      }\n    }\n  }\n"): (typeof documents)["\n  query MyTasks($status: TaskStatus) {\n    myTasks(status: $status, first: 100) {\n      id\n      title\n      dueAt\n      priority\n      status\n      isOverdue\n      contact {\n        id\n        name\n      }\n      deal {\n        id\n        title\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CompleteTask($id: ID!) {\n    completeTask(id: $id) {\n      id\n      status\n    }\n  }\n"): (typeof documents)["\n  mutation CompleteTask($id: ID!) {\n    completeTask(id: $id) {\n      id\n      status\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ReopenTask($id: ID!) {\n    reopenTask(id: $id) {\n      id\n      status\n    }\n  }\n"): (typeof documents)["\n  mutation ReopenTask($id: ID!) {\n    reopenTask(id: $id) {\n      id\n      status\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation NewTask($input: CreateTaskInput!) {\n    createTask(input: $input) {\n      id\n    }\n  }\n"): (typeof documents)["\n  mutation NewTask($input: CreateTaskInput!) {\n    createTask(input: $input) {\n      id\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Templates {\n    emailTemplates {\n      id\n      name\n      subject\n      text\n      html\n    }\n    emailTemplateVariables\n  }\n"): (typeof documents)["\n  query Templates {\n    emailTemplates {\n      id\n      name\n      subject\n      text\n      html\n    }\n    emailTemplateVariables\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateTemplate($input: CreateEmailTemplateInput!) {\n    createEmailTemplate(input: $input) {\n      id\n    }\n  }\n"): (typeof documents)["\n  mutation CreateTemplate($input: CreateEmailTemplateInput!) {\n    createEmailTemplate(input: $input) {\n      id\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation UpdateTemplate($id: ID!, $input: UpdateEmailTemplateInput!) {\n    updateEmailTemplate(id: $id, input: $input) {\n      id\n    }\n  }\n"): (typeof documents)["\n  mutation UpdateTemplate($id: ID!, $input: UpdateEmailTemplateInput!) {\n    updateEmailTemplate(id: $id, input: $input) {\n      id\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query Webhooks {\n    webhooks {\n      id\n      url\n      events\n      description\n      enabled\n      disabledReason\n      failingSince\n    }\n  }\n"): (typeof documents)["\n  query Webhooks {\n    webhooks {\n      id\n      url\n      events\n      description\n      enabled\n      disabledReason\n      failingSince\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation CreateWebhook($input: CreateWebhookInput!) {\n    createWebhook(input: $input) {\n      secret\n      webhook {\n        id\n      }\n    }\n  }\n"): (typeof documents)["\n  mutation CreateWebhook($input: CreateWebhookInput!) {\n    createWebhook(input: $input) {\n      secret\n      webhook {\n        id\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation SetWebhookEnabled($id: ID!, $enabled: Boolean!) {\n    updateWebhook(id: $id, input: { enabled: $enabled }) {\n      id\n      enabled\n    }\n  }\n"): (typeof documents)["\n  mutation SetWebhookEnabled($id: ID!, $enabled: Boolean!) {\n    updateWebhook(id: $id, input: { enabled: $enabled }) {\n      id\n      enabled\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation DeleteWebhook($id: ID!) {\n    deleteWebhook(id: $id) {\n      id\n    }\n  }\n"): (typeof documents)["\n  mutation DeleteWebhook($id: ID!) {\n    deleteWebhook(id: $id) {\n      id\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation RotateWebhookSecret($id: ID!) {\n    rotateWebhookSecret(id: $id) {\n      secret\n    }\n  }\n"): (typeof documents)["\n  mutation RotateWebhookSecret($id: ID!) {\n    rotateWebhookSecret(id: $id) {\n      secret\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation TestWebhook($id: ID!) {\n    testWebhook(id: $id) {\n      status\n      responseCode\n      error\n      latencyMs\n    }\n  }\n"): (typeof documents)["\n  mutation TestWebhook($id: ID!) {\n    testWebhook(id: $id) {\n      status\n      responseCode\n      error\n      latencyMs\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  query WebhookDeliveries($webhookId: ID!) {\n    webhookDeliveries(webhookId: $webhookId, first: 50) {\n      edges {\n        node {\n          id\n          eventType\n          status\n          attempts\n          responseCode\n          latencyMs\n          error\n          createdAt\n        }\n      }\n    }\n  }\n"): (typeof documents)["\n  query WebhookDeliveries($webhookId: ID!) {\n    webhookDeliveries(webhookId: $webhookId, first: 50) {\n      edges {\n        node {\n          id\n          eventType\n          status\n          attempts\n          responseCode\n          latencyMs\n          error\n          createdAt\n        }\n      }\n    }\n  }\n"];
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "\n  mutation ReplayWebhookDeliveries($webhookId: ID!, $from: DateTime!) {\n    replayWebhookDeliveries(webhookId: $webhookId, from: $from)\n  }\n"): (typeof documents)["\n  mutation ReplayWebhookDeliveries($webhookId: ID!, $from: DateTime!) {\n    replayWebhookDeliveries(webhookId: $webhookId, from: $from)\n  }\n"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;